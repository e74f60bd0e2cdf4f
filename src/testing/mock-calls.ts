import { EventEmitter } from 'node:events'
import { Duplex } from 'node:stream'
import { status as Status, Metadata } from '@grpc/grpc-js'
import type { MessageType, WireMessage } from '../wire/proto.ts'
import type { GrpcStatus } from '../wire/status.ts'
import { callError, type MethodCodec } from './etcd3-protocol.ts'

/**
 * The calls of the etcd3 mock, without a socket: the server's handlers get call objects of the shape grpc-js gives
 * them (request or 'data', metadata, 'cancelled', write / end / emit('error')), and the client gets what grpc-js gives
 * etcd3 (a promise's value or error; a duplex stream of raw messages that emits 'data', 'error' and 'end'). Messages
 * cross as bytes, encoded by etcd3's proto functions on the client side and by the server's on the other, so each
 * side reads exactly what it reads over gRPC.
 */

/** PEER names the mock's client in the handlers' calls (grpc-js gives a host:port). */
const PEER = 'etcd3-mock'

/** serverMetadata is the metadata a handler reads: etcd3's call metadata (its token), in grpc-js's Metadata. */
function serverMetadata(metadata: Metadata | undefined): Metadata {
  return metadata ?? new Metadata()
}

/** MockUnaryCall is a unary call as a handler sees it. */
export class MockUnaryCall extends EventEmitter {
  readonly cancelled = false
  readonly metadata: Metadata
  constructor(
    readonly request: WireMessage,
    metadata?: Metadata,
  ) {
    super()
    this.metadata = serverMetadata(metadata)
  }

  getPeer(): string {
    return PEER
  }
}

/** StreamMessages: how a stream's messages cross: the client's codec, and the server's request and response types. */
export interface StreamMessages {
  readonly client: MethodCodec
  readonly request: MessageType
  readonly response: MessageType
}

/**
 * mockStream makes both ends of one streaming call: `server`, the call a handler gets, and `client`, the duplex
 * stream etcd3 gets. A client write reaches the handler as 'data'; the handler's writes reach etcd3 as 'data'; its
 * end() or error ends the client's stream as grpc-js ends it (the readable side ends, then 'error' for a status other
 * than OK, then 'status'). The client's cancel() reaches the handler as 'cancelled' and fails the client's stream
 * with CANCELLED "Cancelled on client", as grpc-js does; end() half-closes ('end' on the server side).
 */
export function mockStream(messages: StreamMessages, metadata?: Metadata): { server: MockServerStream; client: MockClientStream } {
  const server = new MockServerStream(messages, serverMetadata(metadata))
  const client = new MockClientStream(messages, server)
  server.attach(client)
  return { server, client }
}

/** MockServerStream is a streaming call as a handler sees it. */
export class MockServerStream extends EventEmitter {
  readonly metadata: Metadata
  readonly request: WireMessage = {}
  cancelled = false
  #client: MockClientStream | undefined
  #done = false
  readonly #messages: StreamMessages

  constructor(messages: StreamMessages, metadata: Metadata) {
    super()
    this.#messages = messages
    this.metadata = metadata
  }

  attach(client: MockClientStream): void {
    this.#client = client
  }

  getPeer(): string {
    return PEER
  }

  /** write sends a response; false when the client's buffer is full ('drain' follows once etcd3 reads on). */
  write(message: WireMessage): boolean {
    if (this.#done || this.#client === undefined) return false
    const bytes = this.#messages.response.encode(message)
    return this.#client.deliver(this.#messages.client.deserialize(bytes))
  }

  end(): void {
    this.#close({ code: Status.OK, details: 'OK' })
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && !this.#done) {
      this.#close(args[0] as GrpcStatus)
      return true
    }
    return super.emit(event, ...args)
  }

  /** fromClient passes a request written by etcd3 to the handler, decoded as the server decodes it. */
  fromClient(bytes: Buffer): void {
    if (this.#done) return
    super.emit('data', this.#messages.request.decode(bytes))
  }

  /** halfClose: etcd3 ended its side. */
  halfClose(): void {
    if (!this.#done) super.emit('end')
  }

  /** cancel: etcd3 canceled the call; the handler hears 'cancelled', and the client fails with CANCELLED. */
  cancel(): void {
    if (this.#done) return
    this.cancelled = true
    this.#close({ code: Status.CANCELLED, details: 'Cancelled on client' })
    super.emit('cancelled')
  }

  /** #close ends the call; the client hears its status on the next tick, as grpc-js's client hears one off the wire. */
  #close(status: GrpcStatus): void {
    if (this.#done) return
    this.#done = true
    const client = this.#client
    if (client !== undefined) process.nextTick(() => client.finish(status))
  }
}

/** MockClientStream is the duplex stream etcd3 gets from the mock's `client.watch()` / `client.leaseKeepAlive()`. */
export class MockClientStream extends Duplex {
  readonly #server: MockServerStream
  readonly #codec: MethodCodec
  #finished = false

  constructor(messages: StreamMessages, server: MockServerStream) {
    super({ objectMode: true })
    this.#server = server
    this.#codec = messages.client
  }

  /** deliver queues a response for etcd3; false once its buffer is full. */
  deliver(value: unknown): boolean {
    if (this.#finished) return false
    return this.push(value)
  }

  /** finish ends the call with a status, as grpc-js's client does on the call's status. */
  finish(status: GrpcStatus): void {
    if (this.#finished) return
    this.#finished = true
    this.push(null)
    if (status.code !== Status.OK) super.emit('error', callError(status))
    super.emit('status', { code: status.code, details: status.details, metadata: status.metadata ?? new Metadata() })
  }

  /** cancel ends the call from etcd3's side. */
  cancel(): void {
    this.#server.cancel()
  }

  getPeer(): string {
    return PEER
  }

  override _read(): void {
    this.#server.emit('drain')
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let bytes: Buffer
    try {
      bytes = this.#codec.serialize(chunk)
    } catch (err) {
      callback(err as Error)
      return
    }
    callback()
    this.#server.fromClient(bytes)
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback()
    this.#server.halfClose()
  }
}
