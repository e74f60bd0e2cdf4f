import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2'
import type { Duplex } from 'node:stream'
import { status as Status, type UntypedServiceImplementation } from '@grpc/grpc-js'
import { CallResponder, StreamCall, unaryCall, type UnaryCall } from './grpc-call.ts'
import { MessageReader } from './grpc-frames.ts'
import { unimplemented, type GrpcStatus } from '../wire/status.ts'
import type { ServiceName, WireMessage } from '../wire/proto.ts'
import { rowsOf } from '../wire/rpc-table.ts'

/**
 * GrpcServer serves gRPC calls over Node's HTTP/2 server, with the handlers written for grpc-js (see grpc-call.ts
 * for the calls they receive). It does what etcd's API needs and no more: unary, server-streaming and bidirectional
 * methods, identity / gzip / deflate request messages, a request size limit, statuses with etcd's messages, and a
 * graceful or forced shutdown. The connections come from the front door (which also speaks HTTP/1.1 and TLS), never
 * from a listener of its own.
 *
 * A call costs one HTTP/2 stream and the handler's own work: no interceptor chain, metadata copy, per-call
 * timers or statistics (grpc-js's server spent about 40% of a served put's CPU on those; see bench/PROFILES.md).
 * Deadlines (`grpc-timeout`) are the client's to keep: its gRPC library cancels the call when one passes, which
 * the handler sees as a cancelled call.
 */
export interface GrpcServerOptions {
  /** maxReceiveMessageBytes: a request message above it is refused with RESOURCE_EXHAUSTED. */
  readonly maxReceiveMessageBytes: number
}

type UnaryHandler = (call: UnaryCall, callback: (err: Partial<GrpcStatus> | null, value?: WireMessage) => void) => void
type StreamHandler = (call: StreamCall) => void

/** Route is one served method: how its messages are coded and who answers it. */
interface Route {
  readonly kind: 'unary' | 'server_stream' | 'bidi'
  readonly decode: (bytes: Uint8Array) => WireMessage
  readonly encode: (message: WireMessage) => Buffer
  readonly handler: UnaryHandler | StreamHandler
}

export class GrpcServer {
  readonly #options: GrpcServerOptions
  readonly #routes = new Map<string, Route>()
  readonly #sessions = new Set<ServerHttp2Session>()
  readonly #http2: Http2Server
  #shuttingDown = false

  constructor(options: GrpcServerOptions) {
    this.#options = options
    // As grpc-js: no limit on header blocks or session memory (Node degrades badly when a session reaches its limit).
    this.#http2 = createServer({ maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER, maxSessionMemory: Number.MAX_SAFE_INTEGER })
    this.#http2.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session)
      session.on('close', () => this.#sessions.delete(session))
      // A session error (a protocol violation, a reset socket) ends that session; 'close' follows.
      session.on('error', () => {})
    })
    this.#http2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#call(stream, headers))
  }

  /** addService serves a service's methods with `impl`'s handlers; a method without one answers UNIMPLEMENTED. */
  addService(service: ServiceName, impl: UntypedServiceImplementation): void {
    for (const row of rowsOf(service)) {
      const handler = impl[row.method]
      if (handler === undefined) continue
      const kind = row.kind === 'server-stream' ? 'server_stream' : row.kind
      const m = row.proto
      this.#routes.set(row.path, { kind, decode: m.request.decode, encode: m.response.encode, handler: handler as UnaryHandler | StreamHandler })
    }
  }

  /** injectConnection serves HTTP/2 on a connection accepted elsewhere (plain TCP or TLS). */
  injectConnection(connection: Duplex): void {
    if (this.#shuttingDown) connection.destroy()
    else this.#http2.emit('connection', connection)
  }

  /** tryShutdown refuses new calls (GOAWAY) and calls back once every call in flight has finished. */
  tryShutdown(callback: () => void): void {
    this.#shuttingDown = true
    const sessions = [...this.#sessions]
    let open = sessions.length
    if (open === 0) {
      setImmediate(callback)
      return
    }
    for (const session of sessions) {
      if (session.closed || session.destroyed) {
        if (--open === 0) setImmediate(callback)
        continue
      }
      session.close(() => {
        if (--open === 0) callback()
      })
    }
  }

  /** cutSessions destroys every open connection at once (no GOAWAY) and goes on serving new ones. */
  cutSessions(): void {
    for (const session of [...this.#sessions]) session.destroy()
  }

  /** forceShutdown cuts every connection at once. */
  forceShutdown(): void {
    this.#shuttingDown = true
    for (const session of this.#sessions) session.destroy()
    this.#sessions.clear()
  }

  #call(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // A reset stream may report an error; its 'close' tells the call.
    stream.on('error', () => {})
    const contentType = headers['content-type']
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true })
      return
    }
    const path = headers[':path'] ?? ''
    const route = this.#routes.get(path)
    const responder = new CallResponder(stream, route?.encode ?? encodeNothing)
    if (route === undefined) {
      responder.status(unimplemented(path))
      return
    }
    const reader = new MessageReader(this.#options.maxReceiveMessageBytes, headers['grpc-encoding'] as string | undefined)
    if (route.kind === 'bidi') {
      const call = new StreamCall(responder, headers)
      call.readRequests(reader, route.decode)
      guarded(responder, () => (route.handler as StreamHandler)(call))
      return
    }
    readOneRequest(stream, reader, responder, route.decode, (request) => {
      if (route.kind === 'unary') {
        const answer = (err: Partial<GrpcStatus> | null, value?: WireMessage) => {
          if (err !== null && err !== undefined) responder.status(statusOf(err))
          else if (value === undefined) responder.status({ code: Status.INTERNAL, details: 'etcdlite: no response' })
          else responder.unary(value)
        }
        guarded(responder, () => (route.handler as UnaryHandler)(unaryCall(responder, headers, request), answer))
      } else {
        const call = new StreamCall(responder, headers)
        call.request = request
        guarded(responder, () => (route.handler as StreamHandler)(call))
      }
    })
  }
}

/**
 * readOneRequest reads a unary or server-streaming call's request body: exactly one message, then the client's
 * half-close. Anything else ends the call with a status.
 */
function readOneRequest(
  stream: ServerHttp2Stream,
  reader: MessageReader,
  responder: CallResponder,
  decode: (bytes: Uint8Array) => WireMessage,
  onRequest: (request: WireMessage) => void,
): void {
  let message: Buffer | undefined
  let messages = 0
  let failed = false
  const take = (bytes: Buffer) => {
    message = bytes
    messages++
  }
  stream.on('data', (chunk: Buffer) => {
    if (failed) return
    try {
      reader.push(chunk, take)
    } catch (err) {
      failed = true
      responder.status(statusOf(err as GrpcStatus))
    }
  })
  stream.once('end', () => {
    if (failed || responder.done) return
    if (messages !== 1 || reader.partial) {
      responder.status({ code: Status.INTERNAL, details: `etcdlite: a unary request holds one message, not ${reader.partial ? 'a cut one' : messages}` })
      return
    }
    let request: WireMessage
    try {
      request = decode(message!)
    } catch {
      responder.status({ code: Status.INTERNAL, details: 'Error deserializing request' })
      return
    }
    onRequest(request)
  })
}

/** guarded runs a handler; one that throws (a bug: handlers answer errors as statuses) ends its call, not the server. */
function guarded(responder: CallResponder, run: () => void): void {
  try {
    run()
  } catch (err) {
    responder.status({ code: Status.INTERNAL, details: `etcdlite: ${err instanceof Error ? err.message : String(err)}` })
  }
}

function statusOf(err: Partial<GrpcStatus>): GrpcStatus {
  const status = { code: typeof err.code === 'number' ? err.code : Status.UNKNOWN, details: err.details ?? 'Unknown error' }
  return err.connectionLost === true ? { ...status, connectionLost: true } : status
}

function encodeNothing(): Buffer {
  return Buffer.alloc(0)
}
