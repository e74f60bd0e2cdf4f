import { describe, expect, test } from 'vitest'
import { parseRange, parseTxn } from '../../src/mvcc/requests.ts'
import { rangeRequest, txnRequest } from '../../src/wire/codec.ts'
import type { RangeRequest, TxnRequest } from '../../src/messages/kv.ts'

/**
 * One validation of each request: the engine's parser and the wire codec (which encodes a request for the network)
 * run the same shape checks (src/messages/request-checks.ts) and fail a malformed request with the same TypeError;
 * etcd's own checks stay in the engine, since over the wire the server answers them (a real etcd too, which the
 * differential tests compare).
 */

const limits = { maxTxnOps: 128 }

describe('a malformed request fails the same way in the engine and on the wire', () => {
  test.each<[string, unknown]>([
    ['a range that is not an object', 5],
    ['a key that is a number', { key: 5 }],
    ['a boolean field that is a string', { key: 'k', keysOnly: 'yes' }],
  ])('range: %s', (_what, request) => {
    const engine = captured(() => parseRange(request as RangeRequest))
    expect(engine).toBeInstanceOf(TypeError)
    expect(captured(() => rangeRequest.toWire(request as RangeRequest))).toEqual(engine)
  })

  test.each<[string, unknown]>([
    ['compare that is not a list', { compare: {} }],
    ['an unknown compare target', { compare: [{ key: 'k', target: 'SIZE', result: 'EQUAL' }] }],
    ['an unknown compare result', { compare: [{ key: 'k', target: 'VERSION', result: 'ABOUT' }] }],
    ['an operation with two requests', { success: [{ requestPut: { key: 'k' }, requestRange: { key: 'k' } }] }],
    ['an operation that is not an object', { success: [7] }],
  ])('txn: %s', (_what, request) => {
    const engine = captured(() => parseTxn(request as TxnRequest, limits))
    expect(engine).toBeInstanceOf(TypeError)
    expect(captured(() => txnRequest.toWire(request as TxnRequest))).toEqual(engine)
  })

  test('an unknown sort order is etcd\'s "invalid sort option" on both sides', () => {
    const request = { key: 'k', sortOrder: 'SIDEWAYS' } as unknown as RangeRequest
    const engine = captured(() => parseRange(request))
    expect(engine).toMatchObject({ code: 'ETCD_INVALID_SORT_OPTION' })
    expect(captured(() => rangeRequest.toWire(request))).toEqual(engine)
  })
})

describe("etcd's own checks are the engine's: the wire sends the request for the server to answer", () => {
  test('an empty key', () => {
    expect(captured(() => parseRange({ key: '' }))).toMatchObject({ code: 'ETCD_EMPTY_KEY' })
    expect(rangeRequest.toWire({ key: '' })).toEqual({})
  })

  test('more operations than the engine allows (the server may allow more)', () => {
    const success = Array.from({ length: 129 }, (_, i) => ({ requestRange: { key: `k${i}` } }))
    expect(captured(() => parseTxn({ success }, limits))).toMatchObject({ code: 'ETCD_TOO_MANY_OPS' })
    expect((txnRequest.toWire({ success }).success as unknown[]).length).toBe(129)
  })
})

/** captured runs `fn` and returns what it threw. */
function captured(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}
