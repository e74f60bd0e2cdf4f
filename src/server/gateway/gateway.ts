import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { StringDecoder } from 'node:string_decoder'
import { status as Status, type UntypedServiceImplementation } from '@grpc/grpc-js'
import type { GrpcStatus } from '../../wire/status.ts'
import { SERVICES, type MethodInfo, type ServiceName, type WireMessage } from '../../wire/proto.ts'
import { rowsOf } from '../../wire/rpc-table.ts'
import { answer, GatewayCall, sendError } from './gateway-call.ts'
import { fromJson, JsonDecodeError } from './json-codec.ts'
import { JsonSyntaxError, parseValue } from './json-text.ts'

/**
 * The JSON gateway: etcd's v3 API as HTTP POSTs of JSON (`/v3/kv/range`, `/v3/lease/grant`, `/v3/watch`, ...), as
 * etcd 3.4 serves it beside gRPC on its client port.
 *
 * Each route comes from the `google.api.http` option of an RPC in the .proto files. A request is decoded from JSON
 * by walking the request message's reflection (json-codec.ts), encoded to protobuf and decoded back exactly as a
 * gRPC request would be, and handed to the same handler a gRPC call reaches. So the two faces share every rule, every
 * limit and every error.
 *
 * Streaming RPCs (Watch, LeaseKeepAlive, Snapshot) answer with a chunked response of one JSON object per line. Their
 * request body may hold several requests one after another; each is sent as soon as it has arrived, so a client
 * that keeps the request body open can talk to a watch interactively.
 */

/** GRPC_OVERHEAD_BYTES: what etcd allows on top of --max-request-bytes for a gRPC message (512 KiB). */
export const GRPC_OVERHEAD_BYTES = 512 * 1024

/** GatewayOptions: what the gateway needs from the server around it. */
export interface GatewayOptions {
  /** handlers are the gRPC service implementations, by service. */
  readonly handlers: ReadonlyMap<ServiceName, UntypedServiceImplementation>
  /** maxRequestBytes is the engine's request limit; a message above it plus 512 KiB is refused, as gRPC refuses it. */
  readonly maxRequestBytes: number
  /** authEnabled tells whether auth is on (a client certificate is then refused on the gateway, as etcd does). */
  readonly authEnabled?: () => Promise<boolean>
}

/** Route is one gateway path: the RPC behind it. */
interface Route {
  readonly service: ServiceName
  readonly method: MethodInfo
}

/** GATEWAY_SERVICES: etcd's gateway routes every service but gRPC's own health check. */
const GATEWAY_SERVICES: readonly ServiceName[] = SERVICES.filter((s) => s !== 'grpc.health.v1.Health')

/** routes maps each gateway path to its RPC. Where two RPCs share a path, the later one answers, as in etcd 3.4. */
export function routes(): Map<string, Route> {
  const table = new Map<string, Route>()
  for (const service of GATEWAY_SERVICES) {
    for (const { proto: method } of rowsOf(service)) for (const path of method.httpPaths) table.set(path, { service, method })
  }
  return table
}

/**
 * createGateway returns the handler of gateway requests. It answers paths under /v3/ and returns false for any
 * other path, which the caller then serves (or refuses).
 */
export function createGateway(options: GatewayOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const table = routes()
  const maxMessageBytes = options.maxRequestBytes + GRPC_OVERHEAD_BYTES
  // A body is read whole before it is decoded; base64 and JSON syntax make it longer than the message it encodes.
  const maxBodyBytes = Math.max(4 * maxMessageBytes, 16 * 1024 * 1024)

  return (req, res) => {
    let path = (req.url ?? '/').split('?')[0]!
    // etcd 3.4 still serves every route under the deprecated /v3beta/ prefix too.
    if (path.startsWith('/v3beta/')) path = `/v3/${path.slice('/v3beta/'.length)}`
    else if (!path.startsWith('/v3/')) return false
    const route = table.get(path)
    if (route === undefined) {
      plainError(res, 404, 'Not Found')
      return true
    }
    if (req.method !== 'POST') {
      plainError(res, 405, 'Method Not Allowed')
      return true
    }
    const handler = options.handlers.get(route.service)?.[route.method.name] as ((...args: unknown[]) => void) | undefined
    // etcd's gateway cannot pass a client certificate's name on; with auth on it refuses such a client outright.
    if (options.authEnabled !== undefined && peerCommonName(req) !== undefined) {
      options.authEnabled().then(
        (enabled) => {
          if (enabled) {
            drain(req)
            plainError(res, 400, 'CommonName of client sending a request against gateway will be ignored and not used as expected')
          } else dispatch(req, res, route.method, handler, maxMessageBytes, maxBodyBytes)
        },
        () => res.destroy(),
      )
      return true
    }
    dispatch(req, res, route.method, handler, maxMessageBytes, maxBodyBytes)
    return true
  }
}

/** dispatch runs a gateway call: unary or server stream with one request, or a bidirectional stream. */
function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  method: MethodInfo,
  handler: ((...args: unknown[]) => void) | undefined,
  maxMessageBytes: number,
  maxBodyBytes: number,
): void {
  if (handler === undefined) {
    drain(req)
    sendError(res, { code: Status.UNIMPLEMENTED, details: `unknown method ${method.name}` })
    return
  }
  if (method.requestStream) serveStream(req, res, method, handler, maxMessageBytes, maxBodyBytes)
  else serveSingle(req, res, method, handler, maxMessageBytes, maxBodyBytes)
}

/** peerCommonName is the common name of a verified client certificate on the request's connection. */
function peerCommonName(req: IncomingMessage): string | undefined {
  const socket = req.socket as TLSSocket
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined
  const cn = socket.getPeerCertificate().subject?.CN
  const name = Array.isArray(cn) ? cn[0] : cn
  return name === undefined || name === '' ? undefined : name
}

/** serveSingle answers an RPC that takes one request: unary calls and server streams (Snapshot). */
function serveSingle(
  req: IncomingMessage,
  res: ServerResponse,
  method: MethodInfo,
  handler: (...args: unknown[]) => void,
  maxMessageBytes: number,
  maxBodyBytes: number,
): void {
  readBody(req, maxBodyBytes).then(
    (text) => {
      if (text === undefined) {
        answer(res, method.response, tooLarge(maxBodyBytes + 1, maxMessageBytes), undefined)
        return
      }
      let request: WireMessage
      try {
        const parsed = parseValue(text)
        request = toWireRequest(method, parsed === undefined ? null : parsed.value, maxMessageBytes)
      } catch (err) {
        // A message over gRPC's limit is refused by the gRPC server in etcd: it answers as a failed call does.
        if (err instanceof JsonDecodeError || err instanceof JsonSyntaxError) sendError(res, decodeFailure(err))
        else answer(res, method.response, decodeFailure(err), undefined)
        return
      }
      const call = new GatewayCall(req, res, method.response)
      call.request = request
      if (method.responseStream) handler(call)
      else handler(call, (err: GrpcStatus | null, value?: WireMessage) => answer(res, method.response, err, value))
    },
    () => res.destroy(),
  )
}

/**
 * serveStream answers a bidirectional RPC: requests are read from the body as they arrive; responses stream back.
 * As etcd's gateway does, a first request that cannot be decoded fails the call (code Unknown); a later one ends the
 * requests.
 */
function serveStream(
  req: IncomingMessage,
  res: ServerResponse,
  method: MethodInfo,
  handler: (...args: unknown[]) => void,
  maxMessageBytes: number,
  maxBodyBytes: number,
): void {
  const call = new GatewayCall(req, res, method.response)
  const decoder = new StringDecoder('utf8')
  let text = ''
  let received = 0
  let sent = 0
  let open = true
  let started = false

  const start = () => {
    if (started) return
    started = true
    call.startStream()
    handler(call)
  }
  const stopReading = () => {
    open = false
    req.off('data', onData)
    req.resume()
    start()
    call.emit('end')
  }
  /** take sends every complete request in `text`; `final` when no more bytes will come. */
  const take = (final: boolean) => {
    for (;;) {
      let parsed
      try {
        parsed = parseValue(text)
      } catch (err) {
        if (err instanceof JsonSyntaxError && err.message === 'unexpected EOF' && !final) return
        return refuse(err)
      }
      if (parsed === undefined) {
        text = ''
        return
      }
      let request: WireMessage
      try {
        request = toWireRequest(method, parsed.value, maxMessageBytes)
      } catch (err) {
        return refuse(err)
      }
      text = text.slice(parsed.end)
      sent++
      start()
      call.emit('data', request)
    }
  }
  const refuse = (err: unknown) => {
    if (sent === 0) {
      open = false
      req.off('data', onData)
      req.resume()
      // etcd's gateway reports a first request it cannot decode as a plain error: Unknown, HTTP 500.
      const failure = decodeFailure(err)
      call.fail(failure.code === Status.INVALID_ARGUMENT ? { code: Status.UNKNOWN, details: failure.details } : failure)
      return
    }
    stopReading()
  }
  const onData = (chunk: Buffer) => {
    if (!open) return
    received += chunk.length
    if (received > maxBodyBytes) return refuse(tooLarge(received, maxMessageBytes))
    text += decoder.write(chunk)
    take(false)
  }
  req.on('data', onData)
  req.on('end', () => {
    if (!open) return
    text += decoder.end()
    take(true)
    if (open) stopReading()
  })
  req.on('error', () => {
    if (open) stopReading()
  })
}

/** toWireRequest decodes one JSON request into the wire message a gRPC client's request would give. */
function toWireRequest(method: MethodInfo, value: Parameters<typeof fromJson>[1], maxMessageBytes: number): WireMessage {
  const bytes = method.request.encode(fromJson(method.request.reflection, value))
  if (bytes.length > maxMessageBytes) throw tooLarge(bytes.length, maxMessageBytes)
  return method.request.decode(bytes)
}

/** tooLarge is gRPC's refusal of a message above the receive limit, which etcd's gateway passes on. */
function tooLarge(size: number, max: number): GrpcStatus {
  return { code: Status.RESOURCE_EXHAUSTED, details: `grpc: received message larger than max (${size} vs. ${max})` }
}

function decodeFailure(err: unknown): GrpcStatus {
  if (err instanceof JsonDecodeError || err instanceof JsonSyntaxError) return { code: Status.INVALID_ARGUMENT, details: err.message }
  if (typeof err === 'object' && err !== null && 'code' in err && 'details' in err) return err as GrpcStatus
  return { code: Status.INVALID_ARGUMENT, details: err instanceof Error ? err.message : String(err) }
}

/** readBody reads a request body as text; undefined when it is longer than `max` bytes. */
export function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      if (over) return
      size += chunk.length
      if (size > max) {
        over = true
        chunks.length = 0
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function drain(req: IncomingMessage): void {
  req.resume()
}

/** plainError answers as Go's http.Error does: the text and a newline, as text/plain. */
export function plainError(res: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  })
  res.end(body)
}
