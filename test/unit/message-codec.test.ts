import { describe, expect, test } from 'vitest'
import { fieldTable, messageCodec } from '../../src/wire/message-codec.ts'
import { messageType } from '../../src/wire/proto.ts'
import { long, uid, unsignedLong } from '../../src/wire/wire-values.ts'

/** The codecs compiled from the proto definitions: the table read from reflection, the rules, the compiled functions. */

function viaBytes<T>(type: string, wire: Record<string, unknown>): Record<string, unknown> {
  return messageType(type).decode(messageType(type).encode(wire)) as T & Record<string, unknown>
}

describe('fieldTable', () => {
  test('reads names, kinds, repeated fields and enum names from the .proto; ids and renames from the rules', () => {
    const rows = fieldTable('etcdserverpb.WatchCreateRequest', { keys: ['key'] })
    expect(rows.map((r) => [r.wire, r.kind, r.repeated])).toEqual([
      ['key', 'bytes', false],
      ['rangeEnd', 'bytes', false],
      ['startRevision', 'int', false],
      ['progressNotify', 'bool', false],
      ['filters', 'enum', true],
      ['prevKv', 'bool', false],
      ['watchId', 'int', false],
      ['fragment', 'bool', false],
    ])
    expect(rows.find((r) => r.wire === 'filters')!.enumNames).toEqual(['NOPUT', 'NODELETE'])
    expect(rows.find((r) => r.wire === 'key')!.key).toBe(true)
    const lease = fieldTable('etcdserverpb.LeaseGrantResponse', { ids: ['ID'], names: { ID: 'id' }, skip: ['header'] })
    expect(lease.map((r) => [r.name, r.kind])).toEqual([
      ['id', 'id'],
      ['TTL', 'int'],
      ['error', 'string'],
    ])
    expect(fieldTable('etcdserverpb.StatusResponse', { ids: ['leader'], skip: ['header'] }).find((r) => r.wire === 'leader')!.kind).toBe('uid')
  })

  test('a rule naming a field the message lacks, or a message field without a codec, is refused at build time', () => {
    expect(() => fieldTable('etcdserverpb.PutRequest', { optional: ['nope'] })).toThrow(/PutRequest has no field nope/)
    expect(() => fieldTable('etcdserverpb.PutResponse')).toThrow(/header is a message and has no codec/)
  })
})

describe('messageCodec', () => {
  const put = messageCodec<Record<string, unknown>>('etcdserverpb.PutRequest', {
    request: 'put request',
    keys: ['key'],
    ids: ['lease'],
    optional: ['lease', 'prevKv'],
  })

  test('a request goes to the wire with its defaults left out and comes back with its optional fields left out', () => {
    const w = put.toWire({ key: 'k', value: '', lease: -2n, prevKv: false, ignoreValue: true })
    expect(Object.keys(w)).toEqual(['key', 'lease', 'ignoreValue'])
    const back = put.fromWire(viaBytes('etcdserverpb.PutRequest', w))
    expect(back).toEqual({ key: Buffer.from('k'), value: Buffer.alloc(0), ignoreValue: true, ignoreLease: false, lease: -2n })
    expect('prevKv' in back).toBe(false)
  })

  test('a request with a wrong type, or no key, is a TypeError that names the field', () => {
    expect(() => put.toWire({ key: 'k', lease: 'x' })).toThrow(TypeError)
    expect(() => put.toWire({ key: 'k', prevKv: 1 })).toThrow(/prevKv must be a boolean/)
    expect(() => put.toWire({ value: 'v' })).toThrow(/key must be a string or a Uint8Array/)
    expect(() => put.toWire(null as never)).toThrow(/put request must be an object/)
  })

  test('enums travel as numbers: unknown numbers read as the first name, and are dropped from a repeated field', () => {
    const watch = messageCodec<Record<string, unknown>>('etcdserverpb.WatchCreateRequest', { request: 'watch' })
    expect(watch.fromWire({ filters: [1, 7, 0] }).filters).toEqual(['NODELETE', 'NOPUT'])
    expect(() => watch.toWire({ key: 'a', filters: ['NOPE'] })).toThrow(/filters must be one of NOPUT, NODELETE/)
    const event = messageCodec<Record<string, unknown>>('mvccpb.Event', { skip: ['kv', 'prevKv'] })
    expect(event.fromWire({ type: 9 }).type).toBe('PUT')
    expect(event.toWire({ type: 'DELETE' })).toEqual({ type: 1 })
  })

  test('a hook replaces one field, and sees the whole message (present-but-empty bytes stay tellable)', () => {
    const seen = messageCodec<Record<string, unknown>>('etcdserverpb.DeleteRangeRequest', {
      hooks: { rangeEnd: { fromWire: (_v, w) => Object.prototype.hasOwnProperty.call(w, 'rangeEnd') } },
    })
    const present = messageType('etcdserverpb.DeleteRangeRequest').decode(Buffer.from([0x0a, 0x01, 0x61, 0x12, 0x00]))
    expect(seen.fromWire(present).rangeEnd).toBe(true)
    expect(seen.fromWire(viaBytes('etcdserverpb.DeleteRangeRequest', { key: Buffer.from('a') })).rangeEnd).toBe(false)
  })

  test('uint64 ids are read bit for bit, and the same id converts to the same value each time (header ids once)', () => {
    const wire = viaBytes('etcdserverpb.ResponseHeader', { clusterId: long(0xfedc_ba98_7654_3210n), memberId: long(1n) })
    expect(uid(wire.clusterId as never)).toBe(0xfedc_ba98_7654_3210n)
    expect(uid(wire.clusterId as never)).toBe(uid(viaBytes('etcdserverpb.ResponseHeader', wire).clusterId as never))
    const cluster = unsignedLong(0xfedc_ba98_7654_3210n)
    expect(unsignedLong(1n)).toEqual(long(1n))
    expect(unsignedLong(0xfedc_ba98_7654_3210n)).toBe(cluster)
    expect(cluster).toEqual(long(0xfedc_ba98_7654_3210n))
  })
})
