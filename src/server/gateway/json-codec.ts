import { Buffer } from 'node:buffer'
import protobuf from 'protobufjs'
import { protoName, type WireMessage } from '../../wire/proto.ts'
import { goString, jsonKind, JsonNumber, parseValue, type JsonObject, type JsonValue } from './json-text.ts'

/**
 * The JSON form of etcd's messages, as etcd 3.4's gateway (grpc-gateway with jsonpb, original proto names) reads and
 * writes them. Nothing here knows any message: every conversion walks the protobufjs reflection of the same .proto
 * files that the gRPC server uses, so the two faces cannot disagree on a field.
 *
 * A JSON request becomes the plain object protobufjs encodes (int64 as Long, bytes as Buffer, enums as numbers);
 * the gateway encodes and decodes it, so the gRPC handlers receive exactly what a gRPC client's request would give
 * them. A response wire message becomes JSON: fields in .proto order under their .proto names, fields holding their
 * default left out, int64 as decimal strings, bytes as padded standard base64, enums by name, strings HTML-escaped.
 *
 * Reading follows jsonpb: a field is found by its .proto name or its lowerCamelCase JSON name; unknown fields are
 * ignored; `null` leaves a field unset; integers may be quoted; enums are names or numbers; bytes are standard base64
 * with padding. Errors carry Go's texts, which etcd returns with code InvalidArgument.
 */

/** JsonDecodeError: a request that is not valid JSON for its message; the message is what etcd answers. */
export class JsonDecodeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JsonDecodeError'
  }
}

const Long = protobuf.util.Long as unknown as {
  fromString(text: string, unsigned: boolean): unknown
}

const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
const UINT64_MAX = (1n << 64n) - 1n
const INT32_MIN = -(1n << 31n)
const INT32_MAX = (1n << 31n) - 1n
const UINT32_MAX = (1n << 32n) - 1n

/** goTypeName is how Go names a generated message or enum type: its package, then its path joined by '_'. */
function goTypeName(t: protobuf.ReflectionObject): string {
  const parts = t.fullName.replace(/^\./, '').split('.')
  return `${parts[0]}.${parts.slice(1).join('_')}`
}

/** fromJson converts a parsed JSON request into the plain object protobufjs encodes for `type`. */
export function fromJson(type: protobuf.Type, value: JsonValue): WireMessage {
  if (value === null) return {}
  return message(type, value)
}

function message(type: protobuf.Type, value: JsonValue): WireMessage {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof JsonNumber) {
    throw new JsonDecodeError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type map[string]json.RawMessage`)
  }
  const fields: JsonObject = Object.assign(Object.create(null) as JsonObject, value)
  const out: WireMessage = {}
  for (const field of type.fieldsArray) {
    // Both spellings are read; where a request has both, the lowerCamelCase one wins, as in etcd.
    const names = [field.name, protoName(type, field)]
    for (const name of names) {
      if (!(name in fields)) continue
      const v = fields[name]!
      delete fields[name]
      for (const other of names) delete fields[other]
      if (v === null) break
      const decoded = field.repeated ? repeated(field, v) : scalarOrMessage(field, v)
      // An empty bytes field is left unset: etcd's gateway hands the request on as a gRPC client, whose encoding
      // drops empty fields, so a JSON "range_end": "" reaches etcd as no range_end at all (not present and empty).
      if (field.type === 'bytes' && !field.repeated && (decoded as Uint8Array).length === 0) break
      out[field.name] = decoded
      break
    }
  }
  // etcd 3.4's gateway lets unknown fields pass (grpc-gateway's jsonpb allows them): they are ignored.
  return out
}

function repeated(field: protobuf.Field, v: JsonValue): unknown[] {
  if (!Array.isArray(v)) {
    throw new JsonDecodeError(`json: cannot unmarshal ${jsonKind(v)} into Go value of type []json.RawMessage`)
  }
  return v.filter((x) => x !== null).map((x) => scalarOrMessage(field, x))
}

function scalarOrMessage(field: protobuf.Field, v: JsonValue): unknown {
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Type) return message(resolved, v)
  if (resolved instanceof protobuf.Enum) return enumValue(resolved, v)
  switch (field.type) {
    case 'bytes':
      if (typeof v !== 'string') throw cannot(v, '[]uint8')
      return decodeBase64(v)
    case 'string':
      if (typeof v !== 'string') throw cannot(v, 'string')
      return v
    case 'bool':
      if (typeof v !== 'boolean') throw cannot(v, 'bool')
      return v
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return Long.fromString(integer(v, 'int64', INT64_MIN, INT64_MAX).toString(), false)
    case 'uint64':
    case 'fixed64':
      return Long.fromString(integer(v, 'uint64', 0n, UINT64_MAX).toString(), true)
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return Number(integer(v, 'int32', INT32_MIN, INT32_MAX))
    case 'uint32':
    case 'fixed32':
      return Number(integer(v, 'uint32', 0n, UINT32_MAX))
    default:
      throw new Error(`etcdlite: the JSON gateway cannot read a ${field.type} field (${field.fullName})`)
  }
}

/**
 * cannot is Go's type error. Go quotes a number's text only when the target is a number it does not fit ("number
 * 1.5 into ... int64"); a number where bytes or a string belong is just "number".
 */
function cannot(v: JsonValue, goType: string, quoteNumber = false): JsonDecodeError {
  const what = v instanceof JsonNumber && quoteNumber ? `number ${v.text}` : jsonKind(v)
  return new JsonDecodeError(`json: cannot unmarshal ${what} into Go value of type ${goType}`)
}

/** integer reads an integer field: a JSON number, or a string holding one (jsonpb drops the quotes and reads again). */
function integer(v: JsonValue, goType: string, min: bigint, max: bigint): bigint {
  if (typeof v === 'string') v = unquoted(v)
  if (!(v instanceof JsonNumber)) throw cannot(v, goType)
  if (!/^-?\d+$/.test(v.text)) throw cannot(v, goType, true)
  const n = BigInt(v.text)
  if (n < min || n > max) throw cannot(v, goType, true)
  return n
}

/** unquoted parses a quoted integer's text as JSON, as jsonpb does after stripping the quotes. */
function unquoted(text: string): JsonValue {
  let parsed
  try {
    parsed = parseValue(text)
  } catch (err) {
    throw new JsonDecodeError((err as Error).message)
  }
  if (parsed === undefined) throw new JsonDecodeError('unexpected end of JSON input')
  if (text.slice(parsed.end).trim() !== '') {
    const rest = text.slice(parsed.end).trimStart()
    throw new JsonDecodeError(`invalid character ${goCharQuote(rest[0]!)} after top-level value`)
  }
  return parsed.value
}

function goCharQuote(c: string): string {
  return c === "'" ? "'\\''" : `'${JSON.stringify(c).slice(1, -1)}'`
}

function enumValue(e: protobuf.Enum, v: JsonValue): number {
  if (typeof v === 'string') {
    // protobufjs' `values` inherits from `valuesById`: only own properties are names.
    const n = Object.prototype.hasOwnProperty.call(e.values, v) ? e.values[v] : undefined
    if (n === undefined) throw new JsonDecodeError(`unknown value ${goString(v)} for enum ${goTypeName(e)}`)
    return n
  }
  return Number(integer(v, goTypeName(e), INT32_MIN, INT32_MAX))
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const BASE64_VALUE = new Int16Array(128).fill(-1)
for (let i = 0; i < BASE64.length; i++) BASE64_VALUE[BASE64.charCodeAt(i)] = i

/**
 * decodeBase64 reads standard base64 with padding as Go's encoding/base64 does: line breaks are skipped, anything
 * else outside the alphabet, missing or misplaced padding and trailing data are errors at the offending byte.
 */
export function decodeBase64(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8')
  const out = Buffer.allocUnsafe(Math.floor((bytes.length * 3) / 4) + 3)
  let n = 0
  let si = 0
  const fail = (at: number): never => {
    throw new JsonDecodeError(`illegal base64 data at input byte ${at}`)
  }
  const isBreak = (c: number | undefined) => c === 0x0a || c === 0x0d
  for (;;) {
    const quantum = [0, 0, 0, 0]
    let j = 0
    let padded = false
    while (j < 4) {
      if (si === bytes.length) {
        if (j === 0) return out.subarray(0, n)
        return fail(si - j)
      }
      const c = bytes[si++]!
      const d = c < 128 ? BASE64_VALUE[c]! : -1
      if (d >= 0) {
        quantum[j++] = d
        continue
      }
      if (isBreak(c)) continue
      if (c !== 0x3d) return fail(si - 1)
      // Padding: at least two symbols must come before it; "xx" needs "==".
      if (j < 2) return fail(si - 1)
      if (j === 2) {
        while (si < bytes.length && isBreak(bytes[si])) si++
        if (si === bytes.length) return fail(bytes.length)
        if (bytes[si] !== 0x3d) return fail(si - 1)
        si++
      }
      while (si < bytes.length && isBreak(bytes[si])) si++
      if (si < bytes.length) return fail(si)
      padded = true
      break
    }
    const [a, b, c, d] = quantum as [number, number, number, number]
    const word = (a << 18) | (b << 12) | (c << 6) | d
    out[n++] = (word >> 16) & 0xff
    if (j > 2) out[n++] = (word >> 8) & 0xff
    if (j > 3) out[n++] = word & 0xff
    if (padded) return out.subarray(0, n)
  }
}

/** toJson writes a decoded wire message of `type` as etcd's gateway does. */
export function toJson(type: protobuf.Type, msg: WireMessage): string {
  let out = '{'
  let first = true
  for (const field of type.fieldsArray) {
    const v = msg[field.name]
    if (isDefault(field, v)) continue
    out += `${first ? '' : ','}${goString(protoName(type, field))}:`
    first = false
    out += field.repeated ? `[${(v as unknown[]).map((x) => value(field, x)).join(',')}]` : value(field, v)
  }
  return out + '}'
}

function isDefault(field: protobuf.Field, v: unknown): boolean {
  if (v === undefined || v === null) return true
  if (field.repeated) return (v as unknown[]).length === 0
  if (field.resolvedType instanceof protobuf.Type) return false
  if (typeof v === 'number') return v === 0
  if (typeof v === 'boolean') return !v
  if (typeof v === 'string') return v.length === 0
  // An absent bytes field decodes as protobufjs' shared empty array, not as a Buffer.
  if (v instanceof Uint8Array || Array.isArray(v)) return v.length === 0
  const long = v as { low: number; high: number }
  return long.low === 0 && long.high === 0
}

function value(field: protobuf.Field, v: unknown): string {
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Type) return toJson(resolved, v as WireMessage)
  if (resolved instanceof protobuf.Enum) {
    const name = resolved.valuesById[v as number]
    return name === undefined ? String(v) : goString(name)
  }
  switch (field.type) {
    case 'bytes':
      return `"${Buffer.from(v as Uint8Array).toString('base64')}"`
    case 'string':
      return goString(v as string)
    case 'bool':
      return v ? 'true' : 'false'
    case 'int64':
    case 'sint64':
    case 'sfixed64':
    case 'uint64':
    case 'fixed64':
      return `"${typeof v === 'number' ? String(v) : (v as { toString(): string }).toString()}"`
    default:
      return String(v)
  }
}
