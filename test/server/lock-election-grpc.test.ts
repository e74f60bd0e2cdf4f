import { Client as GrpcClient, credentials as grpcCredentials, Metadata, type ServiceError } from '@grpc/grpc-js'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { connect } from '../../src/index.ts'
import { authenticateRequest, authenticateResponse } from '../../src/wire/codec-auth.ts'
import * as cc from '../../src/wire/codec-concurrency.ts'
import { leaseGrantRequest, leaseGrantResponse } from '../../src/wire/codec-streams.ts'
import { headerOnlyResponse, type Codec } from '../../src/wire/codec.ts'
import { method, type ServiceName, type WireMessage } from '../../src/wire/proto.ts'
import { servedTargets, type ServedTarget } from '../support/served-targets.ts'

/**
 * The lock and election services over gRPC itself (the differential test drives them through the gateway), against
 * `etcdlite serve` and a real etcd 3.4: answers, error codes and texts, and permissions when auth is on (the services
 * act with the caller's rights).
 */

const servers = servedTargets()

/** Outcome is a call's answer, or its gRPC status code and text. */
type Outcome<T> = { ok: T } | { code: number; details: string }

function call<Req, Res>(
  client: GrpcClient,
  service: ServiceName,
  name: string,
  req: Codec<Req>,
  res: Codec<Res>,
  request: Req,
  token?: string,
): Promise<Outcome<Res>> {
  const m = method(service, name)
  const md = new Metadata()
  if (token !== undefined) md.set('token', token)
  return new Promise((resolve) => {
    client.makeUnaryRequest<WireMessage, WireMessage>(m.path, m.request.encode, m.response.decode, req.toWire(request), md, {}, (err: ServiceError | null, value?: WireMessage) =>
      resolve(err ? { code: err.code, details: err.details } : { ok: res.fromWire(value!) }),
    )
  })
}

describe.each(servers)('lock and election over gRPC (%s)', (_name, start) => {
  let server: ServedTarget
  let grpc: GrpcClient
  beforeEach(async () => {
    server = await start()
    grpc = new GrpcClient(server.endpoint, grpcCredentials.createInsecure())
  })
  afterEach(async () => {
    grpc.close()
    await server.stop()
  })

  const lock = (name: string, lease: bigint, token?: string) => call(grpc, 'v3lockpb.Lock', 'Lock', cc.lockRequest, cc.lockResponse, { name, lease }, token)

  test('Lock answers the holding key; Unlock frees it; errors come as code Unknown with etcd text', async () => {
    const etcd = await connect({ endpoints: [server.endpoint] })
    try {
      await etcd.grant(60, { id: 0x42n })
      const held = await lock('grpc/lock', 0x42n)
      expect('ok' in held && Buffer.from(held.ok.key).toString()).toBe('grpc/lock/42')
      expect(await lock('grpc/lock', 0x99n)).toEqual({ code: 2, details: 'etcdserver: requested lease not found' })
      const unlocked = await call(grpc, 'v3lockpb.Lock', 'Unlock', cc.unlockRequest, headerOnlyResponse, { key: 'grpc/lock/42' })
      expect('ok' in unlocked && unlocked.ok.header.revision).toBe(3)
      expect(await call(grpc, 'v3lockpb.Lock', 'Unlock', cc.unlockRequest, headerOnlyResponse, { key: '' })).toEqual({
        code: 2,
        details: 'etcdserver: key is not provided',
      })
      const leader = await call(grpc, 'v3electionpb.Election', 'Leader', cc.leaderRequest, cc.leaderResponse, { name: 'grpc/e' })
      expect(leader).toEqual({ code: 2, details: 'election: no leader' })
      const campaign = await call(grpc, 'v3electionpb.Election', 'Campaign', cc.campaignRequest, cc.campaignResponse, {
        name: 'grpc/e',
        lease: 0x42n,
        value: 'me',
      })
      expect('ok' in campaign && { key: Buffer.from(campaign.ok.leader.key).toString(), rev: campaign.ok.leader.rev, lease: campaign.ok.leader.lease }).toEqual({
        key: 'grpc/e/42',
        rev: 4,
        lease: 0x42n,
      })
      const now = await call(grpc, 'v3electionpb.Election', 'Leader', cc.leaderRequest, cc.leaderResponse, { name: 'grpc/e' })
      expect('ok' in now && Buffer.from(now.ok.kv.value).toString()).toBe('me')
    } finally {
      await etcd.close()
    }
  })

  test('a Lock whose caller cancels the call stops waiting and leaves no key', async () => {
    const etcd = await connect({ endpoints: [server.endpoint] })
    try {
      await etcd.grant(60, { id: 0x1n })
      await etcd.grant(60, { id: 0x2n })
      expect('ok' in (await lock('grpc/cancel', 0x1n))).toBe(true)
      const m = method('v3lockpb.Lock', 'Lock')
      const waiting = grpc.makeUnaryRequest<WireMessage, WireMessage>(
        m.path,
        m.request.encode,
        m.response.decode,
        cc.lockRequest.toWire({ name: 'grpc/cancel', lease: 0x2n }),
        new Metadata(),
        {},
        () => undefined,
      )
      const deadline = Date.now() + 5_000
      while ((await etcd.get('grpc/cancel/', { prefix: true, countOnly: true })).count < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      waiting.cancel()
      const gone = Date.now() + 5_000
      let keys: string[] = []
      do {
        await new Promise((resolve) => setTimeout(resolve, 50))
        keys = (await etcd.get('grpc/cancel/', { prefix: true })).kvs.map((kv) => Buffer.from(kv.key).toString())
      } while (keys.length > 1 && Date.now() < gone)
      expect(keys).toEqual(['grpc/cancel/1'])
    } finally {
      await etcd.close()
    }
  })

  test("with auth on, Lock acts with the caller's rights", async () => {
    const etcd = await connect({ endpoints: [server.endpoint] })
    try {
      await etcd.auth.userAdd('root', 'rootpw')
      await etcd.auth.userGrantRole('root', 'root')
      await etcd.auth.roleAdd('locker')
      await etcd.auth.roleGrantPermission('locker', 'READWRITE', 'mine/', { prefix: true })
      await etcd.auth.userAdd('alice', 'alicepw')
      await etcd.auth.userGrantRole('alice', 'locker')
      await etcd.auth.authEnable()
      const token = await call(grpc, 'etcdserverpb.Auth', 'Authenticate', authenticateRequest, authenticateResponse, { name: 'alice', password: 'alicepw' })
      const aliceToken = 'ok' in token ? token.ok.token : undefined
      expect(aliceToken).toBeTypeOf('string')
      const granted = await call(grpc, 'etcdserverpb.Lease', 'LeaseGrant', leaseGrantRequest, leaseGrantResponse, { ttl: 60, id: 0x7n }, aliceToken)
      expect('ok' in granted && granted.ok.id).toBe(0x7n)
      expect(await lock('theirs', 0x7n, aliceToken)).toEqual({ code: 2, details: 'etcdserver: permission denied' })
      const mine = await lock('mine', 0x7n, aliceToken)
      expect('ok' in mine && Buffer.from(mine.ok.key).toString()).toBe('mine/7')
    } finally {
      await etcd.close()
    }
  })
})
