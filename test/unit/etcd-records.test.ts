import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { decodeKeyValue, decodeLease, decodeRole, decodeUser, encodeKeyValue, encodeLease, encodeRole, encodeUser } from '../../src/etcd-snapshot/messages.ts'
import { parseRevisionKey, revisionKey } from '../../src/etcd-snapshot/layout.ts'
import { messageType } from '../../src/wire/proto.ts'

/**
 * The records of etcd's bbolt file: our one-pass KeyValue codec against protobufjs reading etcd's own .proto (an
 * independent decoder), lossless int64 leases, and the revision keys of the `key` bucket.
 */

const latin1 = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1'))
const revision = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }))
const leaseId = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }))

describe('mvccpb.KeyValue', () => {
  test('encodes as protobufjs reads it, and decodes back the same', () => {
    const type = messageType('mvccpb.KeyValue').reflection
    fc.assert(
      fc.property(latin1, revision, revision, revision, latin1, leaseId, (key, createRevision, modRevision, version, value, lease) => {
        const kv = { key, createRevision, modRevision, version, value, lease }
        const bytes = encodeKeyValue(kv)
        const theirs = type.toObject(type.decode(bytes), { longs: String, bytes: Buffer }) as Record<string, unknown>
        expect(Buffer.from((theirs.key as Buffer | undefined) ?? []).toString('latin1')).toBe(key)
        expect(Buffer.from((theirs.value as Buffer | undefined) ?? []).toString('latin1')).toBe(value)
        expect(String(theirs.createRevision ?? 0)).toBe(String(createRevision))
        expect(String(theirs.modRevision ?? 0)).toBe(String(modRevision))
        expect(String(theirs.version ?? 0)).toBe(String(version))
        expect(String(theirs.lease ?? 0)).toBe(String(lease))
        // Both ways: what protobufjs writes, we read.
        const ours = decodeKeyValue(Buffer.from(type.encode(type.fromObject({ key: Buffer.from(key, 'latin1'), createRevision, modRevision, version, value: Buffer.from(value, 'latin1'), lease: lease.toString() })).finish()))
        expect({ ...ours, key: ours.key.toString('latin1'), value: ours.value.toString('latin1') }).toEqual(kv)
        const back = decodeKeyValue(bytes)
        expect({ ...back, key: back.key.toString('latin1'), value: back.value.toString('latin1') }).toEqual(kv)
      }),
      { numRuns: 300 },
    )
  })

  test('unknown fields are skipped; malformed bytes are refused', () => {
    const withUnknown = Buffer.concat([encodeKeyValue({ key: 'k', createRevision: 2, modRevision: 2, version: 1, value: 'v', lease: 0n }), Buffer.from([0x38, 0x05, 0x42, 0x01, 0x61])])
    expect(decodeKeyValue(withUnknown).key.toString()).toBe('k')
    expect(() => decodeKeyValue(Buffer.from([0x0a, 0x05, 0x61]))).toThrow(/past the end/)
    expect(() => decodeKeyValue(Buffer.from('hello world'))).toThrow(/wire type/)
    expect(() => decodeKeyValue(Buffer.from([0x10, 0xff]))).toThrow(/truncated/)
  })
})

test('leasepb.Lease, authpb.User and authpb.Role round-trip', () => {
  expect(decodeLease(encodeLease({ id: 2n ** 63n - 1n, ttl: 9_000_000_000 }))).toEqual({ id: 2n ** 63n - 1n, ttl: 9_000_000_000 })
  const user = { name: 'alice', password: { salt: 'c2FsdA==', hash: 'aGFzaA==' }, noPassword: false, roles: ['a', 'b'] }
  expect(decodeUser(encodeUser(user))).toEqual(user)
  const bcrypt = { name: 'bob', password: { salt: '', hash: Buffer.from('$2a$10$abcdefghijklmnopqrstuv').toString('base64') }, noPassword: false, roles: [] }
  expect(decodeUser(encodeUser(bcrypt))).toEqual(bcrypt)
  const nopw = { name: 'svc', noPassword: true, roles: ['root'] }
  expect(decodeUser(encodeUser(nopw))).toEqual(nopw)
  const role = { name: 'r', perms: [{ permType: 'READ' as const, key: 'a', rangeEnd: 'b' }, { permType: 'READWRITE' as const, key: '\u00ff', rangeEnd: '' }] }
  expect(decodeRole(encodeRole(role))).toEqual(role)
})

test('revision keys: main, "_", sub, big-endian; a tombstone has a trailing "t"', () => {
  expect(revisionKey(258, 3).toString('hex')).toBe('0000000000000102' + '5f' + '0000000000000003')
  expect(revisionKey(258, 3, true).toString('hex')).toBe('0000000000000102' + '5f' + '0000000000000003' + '74')
  expect(parseRevisionKey(revisionKey(99, 1, true))).toEqual({ main: 99, sub: 1, tombstone: true })
  expect(parseRevisionKey(Buffer.from('not a revision key'))).toBeUndefined()
  expect(parseRevisionKey(Buffer.concat([revisionKey(1, 0), Buffer.from('x')]))).toBeUndefined()
})
