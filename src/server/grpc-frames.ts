import { gunzipSync, inflateSync } from 'node:zlib'
import { status as Status } from '@grpc/grpc-js'
import type { GrpcStatus } from '../wire/status.ts'

/**
 * gRPC's message framing over an HTTP/2 stream: each message is a compressed flag (1 byte), a length (4 bytes,
 * big-endian) and that many bytes of protobuf. A request body holds any number of them, cut anywhere by DATA frames.
 */

/** HEADER_BYTES: the flag and the length before every message. */
export const HEADER_BYTES = 5

/** MessageReader collects a stream's DATA chunks and hands out each complete message's bytes, in order. */
export class MessageReader {
  readonly #maxMessageBytes: number
  readonly #encoding: string
  #pending: Buffer | undefined

  /**
   * @param maxMessageBytes the largest message accepted (grpc-js's `grpc.max_receive_message_length`)
   * @param encoding the request's `grpc-encoding` header: how a message with its compressed flag set is compressed
   */
  constructor(maxMessageBytes: number, encoding: string | undefined) {
    this.#maxMessageBytes = maxMessageBytes
    this.#encoding = encoding ?? 'identity'
  }

  /** partial: bytes of a message not yet complete are buffered (a body that ends here is cut short). */
  get partial(): boolean {
    return this.#pending !== undefined
  }

  /**
   * push takes one chunk and calls `onMessage` with every message it completes. A message above the size limit
   * (checked from its header, before it is buffered) or compressed in a way the request did not declare throws the
   * status to end the call with.
   */
  push(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    let data = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk])
    this.#pending = undefined
    while (data.length >= HEADER_BYTES) {
      const length = data.readUInt32BE(1)
      if (length > this.#maxMessageBytes) {
        throw status(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs. ${this.#maxMessageBytes})`)
      }
      if (data.length < HEADER_BYTES + length) break
      const compressed = data[0] !== 0
      const message = data.subarray(HEADER_BYTES, HEADER_BYTES + length)
      data = data.subarray(HEADER_BYTES + length)
      onMessage(compressed ? this.#decompress(message) : message)
    }
    if (data.length > 0) this.#pending = data
  }

  #decompress(message: Buffer): Buffer {
    let out: Buffer
    try {
      if (this.#encoding === 'gzip') out = gunzipSync(message)
      else if (this.#encoding === 'deflate') out = inflateSync(message)
      else throw status(Status.INTERNAL, `Compressed message with grpc-encoding "${this.#encoding}"`)
    } catch (err) {
      if (isStatus(err)) throw err
      throw status(Status.INTERNAL, 'Failed to decompress the request message')
    }
    if (out.length > this.#maxMessageBytes) {
      throw status(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${out.length} vs. ${this.#maxMessageBytes})`)
    }
    return out
  }
}

/** frame wraps an encoded message in the framing: an uncompressed flag, the length, the bytes, in one Buffer. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + message.length)
  out[0] = 0
  out.writeUInt32BE(message.length, 1)
  out.set(message, HEADER_BYTES)
  return out
}

function status(code: number, details: string): GrpcStatus {
  return { code, details }
}

function isStatus(err: unknown): err is GrpcStatus {
  return typeof err === 'object' && err !== null && typeof (err as GrpcStatus).code === 'number' && !(err instanceof Error)
}
