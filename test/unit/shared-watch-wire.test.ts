import { describe, expect, test } from 'vitest'
import type { WatchResponse } from '../../src/messages/watch.ts'
import { watchResponse } from '../../src/wire/codec-streams.ts'
import { messageType } from '../../src/wire/proto.ts'

const header = Object.freeze({ clusterId: 1n, memberId: 2n, revision: 7, raftTerm: 3 })
const kv = Object.freeze({ key: Buffer.from('k'), createRevision: 7, modRevision: 7, version: 1, value: Buffer.from('v'), lease: 0n })
const response = (): WatchResponse => ({
  header,
  watchId: 0,
  created: false,
  canceled: false,
  compactRevision: 0,
  cancelReason: '',
  fragment: false,
  events: [Object.freeze({ type: 'PUT' as const, kv })],
})

describe('shared watch responses on the wire', () => {
  test('a frozen (shared) response has one frozen wire form, so the server encodes it once for every stream', () => {
    const r = Object.freeze(response())
    const w = watchResponse.toWire(r)
    expect(watchResponse.toWire(r)).toBe(w)
    expect(Object.isFrozen(w)).toBe(true)
    const type = messageType('etcdserverpb.WatchResponse')
    expect(watchResponse.fromWire(type.decode(type.encode(w)))).toEqual({ ...response(), events: [{ type: 'PUT', kv }] })
  })

  test('a response that is not frozen gets a fresh, unfrozen wire form each time (one stream owns it)', () => {
    const r = response()
    const w = watchResponse.toWire(r)
    expect(watchResponse.toWire(r)).not.toBe(w)
    expect(Object.isFrozen(w)).toBe(false)
  })
})
