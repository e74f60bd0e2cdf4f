import { describe, expect, test } from 'vitest'
import * as kv from '../../src/wire/codec.ts'
import * as mt from '../../src/wire/codec-maintenance.ts'
import * as st from '../../src/wire/codec-streams.ts'
import { messageType, methods, type ServiceName } from '../../src/wire/proto.ts'
import type { Codec } from '../../src/wire/codec.ts'

/**
 * The codec: each message survives services -> wire -> bytes -> wire -> services unchanged, int64s bit for bit;
 * and the .proto carries etcd's names and numbers.
 */

const H = { clusterId: 0xcdef_0123_4567_89abn, memberId: 15620605431212779891n, revision: 42, raftTerm: 1 }
const KV = {
  key: Buffer.from('k'),
  createRevision: 2,
  modRevision: 9_007_199_254_740_991,
  version: 3,
  value: Buffer.from('v'),
  lease: 8625415899331389711n,
}

function roundTrip<T>(codec: Codec<T>, type: string, value: T): T {
  return codec.fromWire(messageType(type).decode(messageType(type).encode(codec.toWire(value))))
}

describe('codec round trips', () => {
  test.each<[string, Codec<never>, string, unknown]>([
    ['header', kv.header as Codec<never>, 'etcdserverpb.ResponseHeader', H],
    ['key-value', kv.keyValue as Codec<never>, 'mvccpb.KeyValue', KV],
    ['range response', kv.rangeResponse as Codec<never>, 'etcdserverpb.RangeResponse', { header: H, kvs: [KV, KV], more: true, count: 7 }],
    ['put response', kv.putResponse as Codec<never>, 'etcdserverpb.PutResponse', { header: H, prevKv: KV }],
    ['delete response', kv.deleteRangeResponse as Codec<never>, 'etcdserverpb.DeleteRangeResponse', { header: H, deleted: 2, prevKvs: [KV] }],
    [
      'txn response',
      kv.txnResponse as Codec<never>,
      'etcdserverpb.TxnResponse',
      {
        header: H,
        succeeded: true,
        responses: [
          { responsePut: { header: { ...H, clusterId: 0n, memberId: 0n, raftTerm: 0 } } },
          { responseTxn: { header: { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 }, succeeded: false, responses: [] } },
        ],
      },
    ],
    [
      'watch response',
      st.watchResponse as Codec<never>,
      'etcdserverpb.WatchResponse',
      {
        header: H,
        watchId: 5,
        created: false,
        canceled: true,
        compactRevision: 3,
        cancelReason: 'why',
        fragment: true,
        events: [{ type: 'DELETE', kv: KV, prevKv: KV }, { type: 'PUT', kv: KV }],
      },
    ],
    ['lease grant response', st.leaseGrantResponse as Codec<never>, 'etcdserverpb.LeaseGrantResponse', { header: H, id: -1n, ttl: 9_000_000_000, error: '' }],
    [
      'lease time-to-live response',
      st.leaseTimeToLiveResponse as Codec<never>,
      'etcdserverpb.LeaseTimeToLiveResponse',
      { header: H, id: 2n ** 63n - 1n, ttl: -1, grantedTtl: 10, keys: [Buffer.from('a')] },
    ],
    ['lease list', st.leaseLeasesResponse as Codec<never>, 'etcdserverpb.LeaseLeasesResponse', { header: H, leases: [{ id: -(2n ** 63n) }, { id: 0n }] }],
    [
      'status response',
      mt.statusResponse as Codec<never>,
      'etcdserverpb.StatusResponse',
      {
        header: H,
        version: '3.4.23',
        dbSize: 100,
        leader: H.memberId,
        raftIndex: 5,
        raftTerm: 1,
        raftAppliedIndex: 5,
        errors: ['x'],
        dbSizeInUse: 90,
        isLearner: false,
      },
    ],
    [
      'member list',
      mt.memberListResponse as Codec<never>,
      'etcdserverpb.MemberListResponse',
      { header: H, members: [{ id: H.memberId, name: 'n', peerURLs: ['http://p:2380'], clientURLs: ['http://c:2379'], isLearner: false }] },
    ],
    ['hashKV response', mt.hashKVResponse as Codec<never>, 'etcdserverpb.HashKVResponse', { header: H, hash: 0xffff_fffe, compactRevision: 4 }],
    // etcd 3.4 sends Alarm's answer without a header, so none crosses the wire.
    ['alarm response', mt.alarmResponse as Codec<never>, 'etcdserverpb.AlarmResponse', { header: { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 }, alarms: [{ memberId: H.memberId, alarm: 'NOSPACE' }] }],
  ])('%s', (_name, codec, type, value) => {
    expect(roundTrip(codec, type, value as never)).toEqual(value)
  })

  test('requests arrive as the engine takes them', () => {
    expect(
      roundTrip(kv.rangeRequest, 'etcdserverpb.RangeRequest', {
        key: 'a',
        rangeEnd: '\0',
        limit: 3,
        revision: 2,
        sortOrder: 'DESCEND',
        sortTarget: 'MOD',
        keysOnly: true,
        minModRevision: 1,
      }),
    ).toEqual({
      key: Buffer.from('a'),
      rangeEnd: Buffer.from('\0'),
      limit: 3,
      revision: 2,
      sortOrder: 'DESCEND',
      sortTarget: 'MOD',
      serializable: false,
      keysOnly: true,
      countOnly: false,
      minModRevision: 1,
      maxModRevision: 0,
      minCreateRevision: 0,
      maxCreateRevision: 0,
    })
    expect(roundTrip(kv.putRequest, 'etcdserverpb.PutRequest', { key: 'k', value: 'v', lease: 2n ** 62n, prevKv: true })).toEqual({
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      lease: 2n ** 62n,
      prevKv: true,
    })
    expect(
      roundTrip(kv.txnRequest, 'etcdserverpb.TxnRequest', {
        compare: [
          { key: 'k', target: 'VALUE', result: 'NOT_EQUAL', value: '' },
          { key: 'k', target: 'LEASE', result: 'EQUAL', lease: -5n },
        ],
        success: [{ requestDeleteRange: { key: 'a', rangeEnd: 'b' } }],
        failure: [{ requestTxn: { success: [{ requestRange: { key: 'x' } }] } }],
      }),
    ).toMatchObject({
      compare: [
        { key: Buffer.from('k'), target: 'VALUE', result: 'NOT_EQUAL', value: Buffer.alloc(0) },
        { key: Buffer.from('k'), target: 'LEASE', result: 'EQUAL', lease: -5n },
      ],
      success: [{ requestDeleteRange: { key: Buffer.from('a'), rangeEnd: Buffer.from('b'), prevKv: false } }],
      failure: [{ requestTxn: { compare: [], success: [{ requestRange: { key: Buffer.from('x') } }], failure: [] } }],
    })
    expect(
      roundTrip(st.watchRequest, 'etcdserverpb.WatchRequest', {
        createRequest: { key: 'k', startRevision: 9, filters: ['NODELETE'], prevKv: true, watchId: 3, fragment: true },
      }),
    ).toEqual({
      createRequest: {
        key: Buffer.from('k'),
        rangeEnd: Buffer.alloc(0),
        startRevision: 9,
        progressNotify: false,
        filters: ['NODELETE'],
        prevKv: true,
        watchId: 3,
        fragment: true,
      },
    })
    expect(roundTrip(st.watchRequest, 'etcdserverpb.WatchRequest', { cancelRequest: { watchId: 0 } })).toEqual({ cancelRequest: { watchId: 0 } })
    expect(roundTrip(st.watchRequest, 'etcdserverpb.WatchRequest', { progressRequest: {} })).toEqual({ progressRequest: {} })
    expect(roundTrip(st.leaseGrantRequest, 'etcdserverpb.LeaseGrantRequest', { ttl: 10, id: 2n ** 63n - 1n })).toEqual({ ttl: 10, id: 2n ** 63n - 1n })
  })

  test('requests are checked as the engine checks them', () => {
    expect(() => kv.putRequest.toWire({ key: 5 as never })).toThrow(TypeError)
    expect(() => kv.rangeRequest.toWire({ key: 'k', limit: 1.5 })).toThrow(TypeError)
    expect(() => kv.rangeRequest.toWire({ key: 'k', sortOrder: 'UP' as never })).toThrow('etcdserver: invalid sort option')
    expect(() => kv.putRequest.toWire({ key: 'k', lease: 2n ** 63n })).toThrow(RangeError)
    expect(() => st.watchRequest.toWire({ createRequest: { key: 'k', filters: ['NOPE' as never] } })).toThrow(TypeError)
  })
})

describe('int64 on the wire', () => {
  test('revisions beyond 2^53 are clamped to the safe integers, never wrapped', () => {
    const w = messageType('etcdserverpb.RangeRequest')
    const big = kv.rangeRequest.fromWire(w.decode(w.encode({ key: Buffer.from('k'), revision: { low: 0, high: 0x7fffffff } })))
    expect(big.revision).toBe(Number.MAX_SAFE_INTEGER)
    const neg = kv.rangeRequest.fromWire(w.decode(w.encode({ key: Buffer.from('k'), revision: { low: 0, high: -0x7fffffff } })))
    expect(neg.revision).toBe(Number.MIN_SAFE_INTEGER)
  })
})

describe("the .proto holds etcd's contract", () => {
  const names = (s: ServiceName) => methods(s).map((m) => m.name)
  test('services and methods', () => {
    expect(names('etcdserverpb.KV')).toEqual(['Range', 'Put', 'DeleteRange', 'Txn', 'Compact'])
    expect(names('etcdserverpb.Watch')).toEqual(['Watch'])
    expect(names('etcdserverpb.Lease')).toEqual(['LeaseGrant', 'LeaseRevoke', 'LeaseKeepAlive', 'LeaseTimeToLive', 'LeaseLeases'])
    expect(names('etcdserverpb.Cluster')).toEqual(['MemberAdd', 'MemberRemove', 'MemberUpdate', 'MemberList', 'MemberPromote'])
    expect(names('etcdserverpb.Maintenance')).toEqual(['Alarm', 'Status', 'Defragment', 'Hash', 'HashKV', 'Snapshot', 'MoveLeader', 'Downgrade'])
    expect(methods('etcdserverpb.Watch')[0]).toMatchObject({ requestStream: true, responseStream: true })
    expect(methods('etcdserverpb.Maintenance')[5]).toMatchObject({ name: 'Snapshot', requestStream: false, responseStream: true })
  })

  test('field numbers of messages every client uses', () => {
    // Byte-level checks against etcd's numbering: tag = field << 3 | wire type.
    const kvBytes = messageType('mvccpb.KeyValue').encode({ key: Buffer.from('k'), createRevision: 1, modRevision: 2, version: 3, value: Buffer.from('v'), lease: 4 })
    expect([...kvBytes]).toEqual([0x0a, 1, 0x6b, 0x10, 1, 0x18, 2, 0x20, 3, 0x2a, 1, 0x76, 0x30, 4])
    const cmp = messageType('etcdserverpb.Compare').encode({ result: 3, target: 4, key: Buffer.from('k'), lease: 1, rangeEnd: Buffer.from('z') })
    expect([...cmp]).toEqual([0x08, 3, 0x10, 4, 0x1a, 1, 0x6b, 0x40, 1, 0x82, 0x04, 1, 0x7a])
    const wr = messageType('etcdserverpb.WatchResponse').encode({ watchId: 1, fragment: true, events: [{ type: 1 }] })
    expect([...wr]).toEqual([0x10, 1, 0x38, 1, 0x5a, 2, 0x08, 1])
    const ttl = messageType('etcdserverpb.LeaseTimeToLiveResponse').encode({ ID: 1, TTL: 2, grantedTTL: 3, keys: [Buffer.from('a')] })
    expect([...ttl]).toEqual([0x10, 1, 0x18, 2, 0x20, 3, 0x2a, 1, 0x61])
  })
})
