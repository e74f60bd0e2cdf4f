import { EventEmitter } from 'node:events'
import { request as httpRequest, Agent, type ClientRequest } from 'node:http'
import { EtcdError } from '../../src/util/errors.ts'
import type { Codec } from '../../src/wire/codec.ts'
import { encodeJson } from '../../src/server/gateway/gateway-call.ts'
import { fromJson } from '../../src/server/gateway/json-codec.ts'
import { parseValue, type JsonObject, type JsonValue } from '../../src/server/gateway/json-text.ts'
import { RemoteStream } from '../../src/remote/grpc-connection.ts'
import { servicesOver, type RemoteServices } from '../../src/remote/remote-services.ts'
import type { Transport } from '../../src/remote/transport.ts'
import { fromGrpcStatus } from '../../src/wire/status.ts'
import type { MessageType, MethodInfo, WireMessage } from '../../src/wire/proto.ts'
import type { BidiStream } from '../../src/messages/stream.ts'
import type { CallCredentials } from '../../src/messages/auth.ts'

/**
 * jsonServices: the services level over etcd's JSON gateway, with Node's fetch for unary calls and a chunked
 * HTTP/1.1 POST for the streams. Each request is the services-level message through the gRPC codec, then JSON as a
 * gateway client writes it (proto names, base64, int64 strings); each answer comes back the same way. Tests drive the
 * conformance suite through it, against etcdlite's gateway and real etcd's alike.
 */
export function jsonServices(baseUrl: string): RemoteServices {
  return servicesOver(new JsonTransport(baseUrl))
}

class JsonTransport implements Transport {
  readonly #base: string
  readonly #agent = new Agent({ keepAlive: true })
  readonly #streams = new Set<{ close(): void }>()
  #closed = false

  constructor(base: string) {
    this.#base = base.replace(/\/$/, '')
  }

  async unary<Req, Res>(m: MethodInfo, req: Codec<Req>, res: Codec<Res>, request: Req, credentials?: CallCredentials): Promise<Res> {
    if (this.#closed) throw new EtcdError('ETCD_STOPPED')
    const body = encodeJson(m.request, req.toWire(request))
    const headers: Record<string, string> = credentials?.token === undefined ? {} : { Authorization: credentials.token }
    const response = await fetch(this.#base + m.httpPaths[0]!, { method: 'POST', body, headers })
    const text = await response.text()
    const parsed = parseValue(text)?.value
    if (response.status !== 200) throw errorOf(parsed, response.status, text)
    return res.fromWire(wireOf(m.response, parsed ?? null))
  }

  stream<Req, Res>(m: MethodInfo, req: Codec<Req>, res: Codec<Res>, credentials?: CallCredentials): BidiStream<Req, Res> {
    if (this.#closed) throw new EtcdError('ETCD_STOPPED')
    const call = new HttpStreamCall(new URL(this.#base + m.httpPaths[0]!), m, this.#agent, credentials)
    const s = new RemoteStream(call, req, res, () => this.#streams.delete(s))
    this.#streams.add(s)
    return s
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const s of [...this.#streams]) s.close()
    this.#agent.destroy()
  }
}

/** wireOf reads a JSON message into the wire form the codec takes, through protobuf as a gRPC answer would be. */
function wireOf(type: MessageType, value: JsonValue): WireMessage {
  return type.decode(type.encode(fromJson(type.reflection, value)))
}

function errorOf(body: JsonValue | undefined, status: number, text: string): Error {
  const b = body as JsonObject | undefined
  if (b !== undefined && b !== null && typeof b === 'object' && typeof b.message === 'string') {
    return fromGrpcStatus({ code: Number((b.code as { text: string }).text), details: b.message })
  }
  return new Error(`HTTP ${status}: ${text}`)
}

/**
 * HttpStreamCall is one streaming gateway call as a grpc-js-like call: each write sends a JSON request on the open
 * request body; each response line is a `{"result":...}` (emitted as 'data') or an `{"error":...}` (emitted as
 * 'error', then 'end').
 */
class HttpStreamCall extends EventEmitter {
  readonly #req: ClientRequest
  readonly #type: MessageType
  readonly #requestType: MessageType
  #buffer = ''
  #done = false

  constructor(url: URL, m: MethodInfo, agent: Agent, credentials: CallCredentials | undefined) {
    super()
    this.#type = m.response
    this.#requestType = m.request
    const headers: Record<string, string> = { 'Transfer-Encoding': 'chunked' }
    if (credentials?.token !== undefined) headers.Authorization = credentials.token
    this.#req = httpRequest(url, { method: 'POST', agent, headers })
    this.#req.flushHeaders()
    this.#req.on('response', (response) => {
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => this.#lines(chunk))
      response.on('end', () => this.#end())
      response.on('error', () => this.#end())
    })
    this.#req.on('error', (err) => this.#fail(14, err.message))
  }

  write(wire: WireMessage): boolean {
    if (this.#done) return false
    return this.#req.write(`${encodeJson(this.#requestType, wire)}\n`)
  }

  cancel(): void {
    this.#done = true
    this.#req.destroy()
  }

  pause(): void {}
  resume(): void {}

  #lines(chunk: string): void {
    this.#buffer += chunk
    for (;;) {
      const nl = this.#buffer.indexOf('\n')
      if (nl < 0) return
      const line = this.#buffer.slice(0, nl)
      this.#buffer = this.#buffer.slice(nl + 1)
      if (line.trim() === '') continue
      const value = parseValue(line)?.value as JsonObject
      if (value.result !== undefined) {
        this.emit('data', wireOf(this.#type, value.result))
      } else {
        const e = (typeof value.error === 'object' && value.error !== null ? value.error : value) as JsonObject
        const code = Number(((e.grpc_code ?? e.code) as { text: string }).text)
        this.#fail(code, String(e.message))
      }
    }
  }

  #fail(code: number, details: string): void {
    if (this.#done) return
    this.emit('error', { code, details })
    this.#end()
  }

  #end(): void {
    if (this.#done) return
    this.#done = true
    this.emit('end')
  }
}
