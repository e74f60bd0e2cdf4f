import { status as Status } from '@grpc/grpc-js'
import { hasPrefix } from './request-keys.ts'

/**
 * Request recording (`fake.requests`): every request that reached the fake, in the order it arrived, with the
 * request as the engine's typed object, the status it got and the revision of its answer. Seeding and the fake's own
 * reads (dump) do not pass through the server and are not recorded.
 */

/** RecordedRequest is one request that reached the fake. */
export interface RecordedRequest {
  /** name is 'Service.Method', e.g. 'KV.Put'. */
  readonly name: string
  /** service is the short service name, e.g. 'KV'. */
  readonly service: string
  /** method is the RPC's name, e.g. 'Put'. */
  readonly method: string
  /**
   * request is the request as the engine's typed object (`{ key: 'config/port', value: '8080' }`): bytes that are
   * printable UTF-8 are strings, other bytes Buffers; lease ids bigints. On a stream, each request message is one
   * entry (a watch create, a keepalive).
   */
  readonly request: unknown
  /**
   * code is the gRPC status code the call ended with (0 OK, 14 UNAVAILABLE, ...); undefined while it is in flight or
   * its stream is open. Every message of a stream gets the stream's final code.
   */
  code: number | undefined
  /** status is the code's name ('OK', 'UNAVAILABLE', ...); undefined while in flight. */
  status: string | undefined
  /**
   * revision is the header revision of the answer: a unary call's response, or on a stream the first response
   * written after the message arrived; undefined when there was none (an error, a black hole).
   */
  revision: number | undefined
  /** fault is the fault rule's fault that applied to it, if any. */
  fault: unknown
  /** keys are the keys the request names (see requestKeys), for prefix filters. @internal */
  readonly keys: readonly Uint8Array[]
}

/** RequestLog is `fake.requests`: the recorded requests, with filters. */
export class RequestLog {
  readonly #entries: RecordedRequest[] = []

  /** all lists every recorded request, oldest first (a copy). */
  get all(): RecordedRequest[] {
    return [...this.#entries]
  }

  /** length is the number of requests recorded. */
  get length(): number {
    return this.#entries.length
  }

  /**
   * of lists the requests to one RPC ('KV.Put'), or to a service ('KV'), optionally only those naming a key under
   * `prefix`.
   * @example expect(fake.requests.of('KV.Put', 'config/').map((r) => r.request)).toEqual([{ key: 'config/port', value: '8080' }])
   */
  of(name: string, prefix?: string | Uint8Array): RecordedRequest[] {
    const byName = name.includes('.') ? (r: RecordedRequest) => r.name === name : (r: RecordedRequest) => r.service === name
    return this.#entries.filter((r) => byName(r) && (prefix === undefined || naming(r, prefix)))
  }

  /** under lists the requests naming a key under `prefix` (any RPC). */
  under(prefix: string | Uint8Array): RecordedRequest[] {
    return this.#entries.filter((r) => naming(r, prefix))
  }

  /** clear forgets every recorded request. */
  clear(): void {
    this.#entries.length = 0
  }

  /** add appends a request that has just arrived; the tap fills its code and revision later. @internal */
  add(name: string, rawRequest: unknown, typedKeys: readonly Uint8Array[]): RecordedRequest {
    const dot = name.indexOf('.')
    const entry: RecordedRequest = {
      name,
      service: name.slice(0, dot),
      method: name.slice(dot + 1),
      request: readable(rawRequest),
      code: undefined,
      status: undefined,
      revision: undefined,
      fault: undefined,
      keys: typedKeys,
    }
    this.#entries.push(entry)
    return entry
  }
}

/** finish records the status a request ended with. @internal */
export function finish(entry: RecordedRequest, code: number): void {
  if (entry.code !== undefined) return
  entry.code = code
  entry.status = Status[code] ?? String(code)
}

function naming(r: RecordedRequest, prefix: string | Uint8Array): boolean {
  const p = typeof prefix === 'string' ? Buffer.from(prefix, 'utf8') : prefix
  return r.keys.some((k) => hasPrefix(k, p))
}

/**
 * readable copies a typed request with its bytes as strings where they are printable UTF-8 (no control characters
 * but tab and newline), so that a test can compare it with a literal.
 */
export function readable(value: unknown): unknown {
  if (value instanceof Uint8Array) return printable(value) ?? Buffer.from(value)
  if (Array.isArray(value)) return value.map(readable)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = readable(v)
    return out
  }
  return value
}

const decoder = new TextDecoder('utf-8', { fatal: true })

function printable(bytes: Uint8Array): string | undefined {
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    return undefined
  }
  return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text) ? undefined : text
}
