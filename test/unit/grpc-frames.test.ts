import { deflateSync, gzipSync } from 'node:zlib'
import { status as Status } from '@grpc/grpc-js'
import { describe, expect, test } from 'vitest'
import { frame, MessageReader } from '../../src/server/grpc-frames.ts'

/** compressedFrame frames already compressed bytes with the compressed flag set. */
function compressedFrame(bytes: Buffer): Buffer {
  const out = frame(bytes)
  out[0] = 1
  return out
}

function readAll(reader: MessageReader, chunks: Buffer[]): string[] {
  const got: string[] = []
  for (const chunk of chunks) reader.push(chunk, (m) => got.push(m.toString()))
  return got
}

describe('gRPC message framing', () => {
  const body = Buffer.concat([frame(Buffer.from('one')), frame(Buffer.alloc(0)), frame(Buffer.from('three'))])

  test('a body in one chunk gives every message, in order, an empty one included', () => {
    const reader = new MessageReader(1024, undefined)
    expect(readAll(reader, [body])).toEqual(['one', '', 'three'])
    expect(reader.partial).toBe(false)
  })

  test.each([1, 2, 3, 5, 7])('a body cut every %i bytes gives the same messages', (size) => {
    const chunks: Buffer[] = []
    for (let at = 0; at < body.length; at += size) chunks.push(body.subarray(at, at + size))
    const reader = new MessageReader(1024, undefined)
    expect(readAll(reader, chunks)).toEqual(['one', '', 'three'])
    expect(reader.partial).toBe(false)
  })

  test('a body that ends inside a message leaves it partial', () => {
    const reader = new MessageReader(1024, undefined)
    expect(readAll(reader, [body.subarray(0, body.length - 2)])).toEqual(['one', ''])
    expect(reader.partial).toBe(true)
  })

  test('a message above the limit is refused from its header, before its bytes arrive', () => {
    const reader = new MessageReader(4, undefined)
    const head = frame(Buffer.alloc(5)).subarray(0, 5)
    expect(() => reader.push(head, () => {})).toThrow(
      expect.objectContaining({ code: Status.RESOURCE_EXHAUSTED, details: 'Received message larger than max (5 vs. 4)' }),
    )
  })

  test.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ] as const)('a message compressed with the declared %s encoding is inflated', (encoding, compress) => {
    const reader = new MessageReader(1024, encoding)
    expect(readAll(reader, [compressedFrame(compress(Buffer.from('hello')))])).toEqual(['hello'])
  })

  test('a compressed message without a declared encoding is refused', () => {
    const reader = new MessageReader(1024, undefined)
    expect(() => reader.push(compressedFrame(gzipSync(Buffer.from('x'))), () => {})).toThrow(
      expect.objectContaining({ code: Status.INTERNAL }),
    )
  })

  test('a message that inflates above the limit is refused', () => {
    const reader = new MessageReader(100, 'gzip')
    expect(() => reader.push(compressedFrame(gzipSync(Buffer.alloc(1000))), () => {})).toThrow(
      expect.objectContaining({ code: Status.RESOURCE_EXHAUSTED }),
    )
  })
})
