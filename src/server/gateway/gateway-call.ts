import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Metadata } from '@grpc/grpc-js'
import type { MessageType, WireMessage } from '../../wire/proto.ts'
import type { GrpcStatus } from '../../wire/status.ts'
import { toJson } from './json-codec.ts'
import { errorBody, httpStatusOf, streamErrorLine } from './http-errors.ts'

/**
 * GatewayCall stands in for a grpc-js server call when the JSON gateway drives a gRPC handler: the very handlers
 * gRPC clients reach serve the gateway too. It carries the decoded request and the HTTP request's credentials as
 * call metadata; what the handler writes goes out as JSON.
 *
 * Unary handlers answer through their callback (see `answer`). Streaming handlers write to the call: each message
 * becomes one `{"result":...}` line of a chunked response, and a failure becomes an `{"error":{...}}` line, as etcd's
 * gateway streams them. A client that goes away cancels the call.
 */
export class GatewayCall extends EventEmitter {
  /** request is the decoded request message (the first one, for a streaming request). */
  request: WireMessage = {}
  readonly metadata: Metadata
  cancelled = false
  #started = false
  #ended = false

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly responseType: MessageType,
  ) {
    super()
    this.metadata = metadataOf(req)
    res.on('close', () => {
      if (this.#ended) return
      this.#ended = true
      this.cancelled = true
      super.emit('cancelled')
      super.emit('close')
    })
  }

  getPeer(): string {
    return `${this.req.socket.remoteAddress ?? ''}:${this.req.socket.remotePort ?? ''}`
  }

  getAuthContext(): object {
    return {}
  }

  getDeadline(): number {
    return Infinity
  }

  /** startStream sends the headers of a streamed response at once, so a client sees the stream is open. */
  startStream(): void {
    if (this.#started) return
    this.#started = true
    this.res.writeHead(200, { 'Content-Type': 'application/json', 'Grpc-Metadata-Content-Type': 'application/grpc' })
    this.res.flushHeaders()
  }

  /** write sends one streamed message; false asks the writer to wait for 'drain'. */
  write(message: WireMessage): boolean {
    if (this.#ended) return true
    this.startStream()
    const ok = this.res.write(`{"result":${encodeJson(this.responseType, message)}}\n`)
    if (!ok) this.res.once('drain', () => super.emit('drain'))
    return ok
  }

  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.startStream()
    this.res.end()
  }

  /** emit('error', status) is how a grpc-js handler fails a streaming call; here it ends the response with it. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'error') return super.emit(event, ...args)
    this.fail(args[0] as GrpcStatus)
    return true
  }

  /** fail ends the call with an error: a whole error response before the stream began, an error line after. */
  fail(status: GrpcStatus): void {
    if (this.#ended) return
    this.#ended = true
    if (status.connectionLost === true) {
      this.res.socket?.destroy()
      return
    }
    if (!this.#started) {
      sendError(this.res, status)
      return
    }
    this.res.end(streamErrorLine(status))
  }
}

/**
 * answer completes a unary call as etcd's gateway does: the response as JSON, with the gRPC content type as metadata;
 * or the error the server returned, chunked, with the gRPC content type as a trailer.
 */
export function answer(res: ServerResponse, type: MessageType, err: GrpcStatus | null, value: WireMessage | undefined): void {
  if (res.headersSent || res.destroyed) return
  if (err?.connectionLost === true) {
    res.socket?.destroy() // as a member that died: no answer, the connection is gone
    return
  }
  if (err !== null || value === undefined) {
    const status = err ?? { code: 13, details: 'etcdlite: no response' }
    res.writeHead(httpStatusOf(status.code).status, { 'Content-Type': 'application/json', Trailer: 'Grpc-Trailer-Content-Type' })
    res.write(errorBody(status))
    res.addTrailers({ 'Grpc-Trailer-Content-Type': 'application/grpc' })
    res.end()
    return
  }
  const bytes = Buffer.from(encodeJson(type, value), 'utf8')
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Grpc-Metadata-Content-Type': 'application/grpc',
    'Content-Length': bytes.length,
  })
  res.end(bytes)
}

/** encodeJson writes a wire message as JSON; it passes through protobuf first, so every int64 is a Long. */
export function encodeJson(type: MessageType, message: WireMessage): string {
  return toJson(type.reflection, type.decode(type.encode(message)))
}

/** sendError answers a request the gateway itself refused (one it could not decode), before any call. */
export function sendError(res: ServerResponse, status: GrpcStatus): void {
  sendJson(res, httpStatusOf(status.code).status, errorBody(status))
}

export function sendJson(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.end()
    return
  }
  const bytes = Buffer.from(body, 'utf8')
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': bytes.length })
  res.end(bytes)
}

/**
 * metadataOf carries an HTTP request's credentials into call metadata, as etcd's gateway does: the Authorization
 * header becomes `authorization` (etcd reads a token from `token` or `authorization`), and `Grpc-Metadata-*` headers
 * pass without their prefix.
 */
function metadataOf(req: IncomingMessage): Metadata {
  const md = new Metadata()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    const v = Array.isArray(value) ? value.join(', ') : value
    if (name === 'authorization') md.set('authorization', v)
    else if (name.startsWith('grpc-metadata-')) md.set(name.slice('grpc-metadata-'.length), v)
  }
  return md
}
