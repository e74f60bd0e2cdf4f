import { EventEmitter } from 'node:events'
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2'
import { TLSSocket } from 'node:tls'
import { status as Status } from '@grpc/grpc-js'
import { frame, MessageReader } from './grpc-frames.ts'
import type { GrpcStatus } from '../wire/status.ts'
import type { WireMessage } from '../wire/proto.ts'

/**
 * The calls the gRPC server hands its handlers, in the shapes the handlers were written for (grpc-js's server
 * calls, which the JSON gateway's calls also take): a unary call with its decoded `request`, and a streaming call
 * that emits each decoded request as 'data' and takes responses through `write()`.
 *
 * Every call answers through one CallResponder, which sends the response headers once, the framed messages, and the
 * status last: in trailers after messages, or as a trailers-only response when there were none.
 */

/** MetadataValue is a metadata entry: text, or bytes for a key ending in `-bin`. */
export type MetadataValue = string | Buffer

/** CallMetadata is what handlers read from a call's metadata. */
export interface CallMetadata {
  get(key: string): MetadataValue[]
}

/** HeaderMetadata reads call metadata straight from the request's HTTP/2 headers, when it is asked for. */
export class HeaderMetadata implements CallMetadata {
  readonly #headers: IncomingHttpHeaders

  constructor(headers: IncomingHttpHeaders) {
    this.#headers = headers
  }

  get(key: string): MetadataValue[] {
    const name = key.toLowerCase()
    const v = this.#headers[name]
    if (v === undefined) return []
    const values = Array.isArray(v) ? v : name.endsWith('-bin') ? v.split(',') : [v]
    return name.endsWith('-bin') ? values.map((s) => Buffer.from(s.trim(), 'base64')) : values
  }
}

/** AuthContext is the TLS peer of a call, as grpc-js reports it. */
export interface AuthContext {
  transportSecurityType?: 'ssl'
  sslPeerCertificate?: { subject?: { CN?: string | string[] } }
}

/** authContextOf reads a stream's TLS peer certificate, if the connection is TLS and the peer sent one. */
function authContextOf(stream: ServerHttp2Stream): AuthContext {
  const socket = stream.session?.socket
  if (!(socket instanceof TLSSocket)) return {}
  const certificate = socket.getPeerCertificate()
  return { transportSecurityType: 'ssl', sslPeerCertificate: certificate.raw === undefined ? undefined : certificate }
}

const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc+proto' } as const
/** Response headers carry no Date (Node adds one by default): gRPC clients ignore it and it defeats HPACK's table. */
const MESSAGES_FOLLOW = { waitForTrailers: true, sendDate: false } as const
const TRAILERS_ONLY = { endStream: true, sendDate: false } as const
const OK_TRAILERS = { 'grpc-status': '0' } as const

/**
 * sharedFrames holds the framed bytes of frozen messages. A frozen wire message is shared by every call that writes
 * it (a watch response sent to many streams, see codec-streams.ts), so it is encoded once; the bytes are only read.
 */
const sharedFrames = new WeakMap<WireMessage, Buffer>()

/**
 * CallResponder writes one call's answer on its HTTP/2 stream. Nothing is written once the stream is closed or
 * reset (the client went away); `done` says the status went out (or can no longer).
 */
export class CallResponder {
  readonly stream: ServerHttp2Stream
  readonly #encode: (message: WireMessage) => Buffer
  #statusSent = false
  /** #trailers end a call that sent messages: OK unless status() says otherwise. */
  #trailers: Record<string, string> = OK_TRAILERS

  constructor(stream: ServerHttp2Stream, encode: (message: WireMessage) => Buffer) {
    this.stream = stream
    this.#encode = encode
  }

  /** statusSent: the call's status is out (or on its way). */
  get statusSent(): boolean {
    return this.#statusSent
  }

  /** done: nothing more can be written, the status being out or the stream gone. */
  get done(): boolean {
    return this.#statusSent || this.stream.destroyed || this.stream.closed
  }

  /** message writes one response message (the headers first if they are not out); false asks for 'drain'. */
  message(message: WireMessage): boolean {
    if (this.done) return true
    let bytes: Buffer | undefined
    try {
      if (!Object.isFrozen(message)) bytes = frame(this.#encode(message))
      else if ((bytes = sharedFrames.get(message)) === undefined) sharedFrames.set(message, (bytes = frame(this.#encode(message))))
    } catch {
      this.status({ code: Status.INTERNAL, details: 'Error serializing response' })
      return true
    }
    const stream = this.stream
    if (!stream.headersSent) this.#respond()
    return stream.write(bytes)
  }

  /**
   * unary answers a unary call: headers, the one message and the OK status, handed to HTTP/2 together (Node sends
   * the trailers in the event-loop turn after the data).
   */
  unary(message: WireMessage): void {
    if (this.done) return
    let bytes: Buffer
    try {
      bytes = frame(this.#encode(message))
    } catch {
      this.status({ code: Status.INTERNAL, details: 'Error serializing response' })
      return
    }
    this.#statusSent = true
    this.#respond()
    this.stream.end(bytes)
  }

  /**
   * status ends the call with a status: in trailers after messages, or alone (trailers-only) before any. A status
   * with `connectionLost` cuts the whole connection instead (every call on it ends, as when a member dies).
   */
  status(status: GrpcStatus): void {
    if (this.done) return
    this.#statusSent = true
    const stream = this.stream
    if (status.connectionLost === true) {
      stream.session?.destroy()
      return
    }
    const ok = status.code === Status.OK
    if (!stream.headersSent) {
      const trailers = ok ? OK_TRAILERS : { 'grpc-status': String(status.code), 'grpc-message': encodeURI(status.details) }
      stream.respond({ ...RESPONSE_HEADERS, ...trailers }, TRAILERS_ONLY)
      return
    }
    if (!ok) this.#trailers = { 'grpc-status': String(status.code), 'grpc-message': encodeURI(status.details) }
    stream.end()
  }

  #respond(): void {
    const stream = this.stream
    stream.respond(RESPONSE_HEADERS, MESSAGES_FOLLOW)
    stream.once('wantTrailers', () => {
      if (!stream.destroyed && !stream.closed) stream.sendTrailers(this.#trailers)
    })
  }
}

/** UnaryCall is a unary (or server-streaming) call's request side: the one decoded request and its metadata. */
export interface UnaryCall {
  readonly request: WireMessage
  readonly metadata: CallMetadata
  getAuthContext(): AuthContext
  getPeer(): string
  /** on('cancelled') hears that the caller went away before the answer went out (as on a grpc-js call). */
  on(event: 'cancelled', listener: () => void): void
}

/** unaryCall makes the call object a unary handler receives. */
export function unaryCall(responder: CallResponder, headers: IncomingHttpHeaders, request: WireMessage): UnaryCall {
  const stream = responder.stream
  return {
    request,
    metadata: new HeaderMetadata(headers),
    getAuthContext: () => authContextOf(stream),
    getPeer: () => peerOf(stream),
    on: (_event, listener) => {
      stream.once('close', () => {
        if (!responder.statusSent) listener()
      })
    },
  }
}

/**
 * StreamCall is a streaming call (server-streaming or bidirectional) as grpc-js presents one: events 'data' (a
 * decoded request), 'end' (the client half-closed), 'cancelled' and 'close' (the stream ended before the status went
 * out), 'drain'; `write()` sends a response, `end()` the OK status, and `emit('error', status)` ends the call with
 * that status.
 */
export class StreamCall extends EventEmitter {
  /** request is the decoded request of a server-streaming call. */
  request: WireMessage = {}
  readonly metadata: CallMetadata
  cancelled = false
  readonly #responder: CallResponder

  constructor(responder: CallResponder, headers: IncomingHttpHeaders) {
    super()
    this.#responder = responder
    this.metadata = new HeaderMetadata(headers)
    const stream = responder.stream
    stream.on('drain', () => super.emit('drain'))
    stream.once('close', () => {
      if (!this.#responder.statusSent) {
        this.cancelled = true
        super.emit('cancelled')
      }
      super.emit('close')
    })
  }

  /**
   * readRequests decodes every message of the request body as it arrives and emits it as 'data'; the client's
   * half-close is 'end'. A message that cannot be read ends the call with its status.
   */
  readRequests(reader: MessageReader, decode: (bytes: Buffer) => WireMessage): void {
    const stream = this.#responder.stream
    const onMessage = (bytes: Buffer) => {
      let message: WireMessage
      try {
        message = decode(bytes)
      } catch {
        throw { code: Status.INTERNAL, details: 'Error deserializing request' } satisfies GrpcStatus
      }
      super.emit('data', message)
    }
    stream.on('data', (chunk: Buffer) => {
      if (this.#responder.done) return
      try {
        reader.push(chunk, onMessage)
      } catch (err) {
        this.#fail(err)
      }
    })
    stream.once('end', () => super.emit('end'))
  }

  getAuthContext(): AuthContext {
    return authContextOf(this.#responder.stream)
  }

  getPeer(): string {
    return peerOf(this.#responder.stream)
  }

  write(message: WireMessage): boolean {
    return this.#responder.message(message)
  }

  end(): void {
    this.#responder.status({ code: Status.OK, details: 'OK' })
  }

  /** emit('error', status) ends the call with that status, as on a grpc-js call; listeners hear it too. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'error') return super.emit(event, ...args)
    this.#fail(args[0])
    return this.listenerCount('error') > 0 ? super.emit('error', ...args) : true
  }

  #fail(err: unknown): void {
    const s = err as Partial<GrpcStatus> | undefined
    this.#responder.status({
      code: typeof s?.code === 'number' ? s.code : Status.UNKNOWN,
      details: String(s?.details ?? 'Unknown error'),
      ...(s?.connectionLost === true ? { connectionLost: true } : {}),
    })
  }
}

function peerOf(stream: ServerHttp2Stream): string {
  const socket = stream.session?.socket
  return `${socket?.remoteAddress ?? ''}:${socket?.remotePort ?? ''}`
}
