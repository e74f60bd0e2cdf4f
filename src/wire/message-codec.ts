import protobuf from 'protobufjs'
import { messageType, type WireMessage } from './proto.ts'
import * as values from './wire-values.ts'
import type { Codec } from './wire-values.ts'

/**
 * Codecs made from the proto definitions. `fieldTable` reads a message's fields from the loaded .proto files
 * (protobufjs reflection: names, types, repeated, enums) and applies the few rules the services level adds: ids as
 * bigints, names that differ, keys a request must carry, fields left out when at their default, nested codecs, and
 * etcd 3.4's quirks as per-field hooks. `messageCodec` compiles a table once into two straight-line functions
 * (`new Function`), so a call runs no loop over the table: the codec is on every request's path.
 *
 * The conventions are codec.ts's: 64-bit integers are numbers (clamped to the safe integers) unless listed as ids
 * (then bigints, bit for bit); bytes stay Buffers; enums are their names, an unknown number read as the first name
 * (dropped from a repeated field); `toWire` leaves out every field at its proto default, and for a request first checks
 * each field's type (a TypeError names it).
 */

/** FieldHook replaces one field's conversion: the place of a quirk. `toWire` returns undefined to leave it out. */
export interface FieldHook {
  fromWire?: (value: unknown, message: WireMessage) => unknown
  toWire?: (value: unknown, message: Record<string, unknown>) => unknown
}

/** MessageRules are what the services level adds to a message's proto definition; every list names wire fields. */
export interface MessageRules {
  /** request names the message in a request's errors; set for requests, whose `toWire` checks every field. */
  request?: string
  /** prefix goes before a field's name in a request's errors (a nested message: 'leader.'). */
  prefix?: string
  /** names: the services-level names that differ from the wire's (`TTL` is `ttl`); may name fields of other messages. */
  names?: Readonly<Record<string, string>>
  /** ids: 64-bit fields read as bigints (lease, member and cluster ids); may name fields of other messages. */
  ids?: readonly string[]
  /** optional: fields the decoded form leaves out when they hold the default (or, for a message, are absent). */
  optional?: readonly string[]
  /** keys: bytes fields a request must carry (absent is a TypeError; empty goes as empty). */
  keys?: readonly string[]
  /** messages: the codec of each message field (by name; may name fields of other messages). */
  messages?: Readonly<Record<string, Codec<any>>>
  /** hooks: fields converted by hand (etcd 3.4's quirks). */
  hooks?: Readonly<Record<string, FieldHook>>
  /** skip: fields the services level does not carry. */
  skip?: readonly string[]
}

/** FieldKind is how a field converts: by its proto type, with 64-bit ids told apart from counts and revisions. */
export type FieldKind = 'bytes' | 'int' | 'id' | 'uid' | 'int32' | 'uint32' | 'bool' | 'string' | 'enum' | 'message'

/** FieldRow is one field of the table. */
export interface FieldRow {
  /** wire is the protobufjs name (lowerCamelCase: `rangeEnd`, `TTL`). */
  readonly wire: string
  /** name is the services-level name. */
  readonly name: string
  readonly kind: FieldKind
  readonly repeated: boolean
  /** enumNames are an enum's value names by number. */
  readonly enumNames: readonly string[]
  readonly codec: Codec<any> | undefined
  readonly optional: boolean
  readonly key: boolean
  readonly hook: FieldHook | undefined
}

const INT64 = new Set(['int64', 'sint64', 'sfixed64'])
const UINT64 = new Set(['uint64', 'fixed64'])
const INT32 = new Set(['int32', 'sint32', 'sfixed32'])
const UINT32 = new Set(['uint32', 'fixed32'])

function kindOf(f: protobuf.Field, isId: boolean): FieldKind {
  const t = f.resolvedType
  if (t instanceof protobuf.Enum) return 'enum'
  if (t instanceof protobuf.Type) return 'message'
  if (INT64.has(f.type)) return isId ? 'id' : 'int'
  if (UINT64.has(f.type)) return isId ? 'uid' : 'int'
  if (INT32.has(f.type)) return 'int32'
  if (UINT32.has(f.type)) return 'uint32'
  if (f.type === 'bytes' || f.type === 'bool' || f.type === 'string') return f.type
  throw new Error(`etcdlite: field ${f.fullName} has type ${f.type}, which the codecs do not carry`)
}

function enumNames(f: protobuf.Field): string[] {
  const e = f.resolvedType as protobuf.Enum
  const names: string[] = []
  for (const [n, name] of Object.entries(e.valuesById)) names[Number(n)] = name
  return names
}

/** fieldTable is a message's field table: its proto definition with the rules applied. */
export function fieldTable(fullName: string, rules: MessageRules = {}): FieldRow[] {
  const type = messageType(fullName).reflection
  const wireNames = new Set(type.fieldsArray.map((f) => f.name))
  for (const list of [rules.optional, rules.keys, rules.skip, Object.keys(rules.hooks ?? {})]) {
    for (const n of list ?? []) if (!wireNames.has(n)) throw new Error(`etcdlite: ${fullName} has no field ${n}`)
  }
  return type.fieldsArray
    .filter((f) => !(rules.skip ?? []).includes(f.name))
    .map((f) => {
      f.resolve()
      const kind = kindOf(f, (rules.ids ?? []).includes(f.name))
      const codec = rules.messages?.[f.name]
      if (kind === 'message' && codec === undefined && rules.hooks?.[f.name] === undefined) {
        throw new Error(`etcdlite: ${fullName}.${f.name} is a message and has no codec`)
      }
      return {
        wire: f.name,
        name: rules.names?.[f.name] ?? f.name,
        kind,
        repeated: f.repeated,
        enumNames: kind === 'enum' ? enumNames(f) : [],
        codec,
        optional: (rules.optional ?? []).includes(f.name),
        key: (rules.keys ?? []).includes(f.name),
        hook: rules.hooks?.[f.name],
      }
    })
}

// ---- the helpers the compiled functions call

const NO_FIELDS: WireMessage = Object.freeze({})

/** each maps a decoded repeated field (absent or empty: a new empty array). */
function each<T>(list: readonly unknown[] | undefined | null, fn: (v: any) => T): T[] {
  if (list === undefined || list === null || list.length === 0) return []
  const out = new Array<T>(list.length)
  for (let i = 0; i < list.length; i++) out[i] = fn(list[i])
  return out
}

/** enumList decodes a repeated enum, dropping numbers it does not know (as etcd 3.4 does with watch filters). */
function enumList(list: readonly number[] | undefined | null, names: readonly string[]): string[] {
  return list === undefined || list === null ? [] : list.map((n) => names[n]!).filter((n) => n !== undefined)
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== 0 && v !== 0n && v !== false && v !== '' && (v as { length?: number }).length !== 0
}

function longOf(v: bigint | number): values.LongBits {
  return values.long(typeof v === 'bigint' ? v : BigInt(v))
}

function unsignedLongOf(v: bigint | number): values.LongBits {
  return values.unsignedLong(typeof v === 'bigint' ? v : BigInt(v))
}

function enumArg(names: readonly string[], v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined
  const n = names.indexOf(v as string)
  if (n < 0) throw new TypeError(`${what} must be one of ${names.join(', ')}, got ${String(v)}`)
  return n === 0 ? undefined : n
}

function listArg(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new TypeError(`${what} must be an array`)
  return v
}

const helpers = { ...values, each, enumList, isSet, longOf, unsignedLongOf, enumArg, listArg, NO_FIELDS }

// ---- compiling

/** decodeOne is the expression reading one value `v` of row i (the field, or one element of a repeated one). */
function decodeOne(row: FieldRow, i: number, v: string): string {
  switch (row.kind) {
    case 'bytes':
      return `h.bytes(${v})`
    case 'int':
      return `h.int(${v})`
    case 'id':
      return `h.id(${v})`
    case 'uid':
      return `h.uid(${v})`
    case 'int32':
      return `(${v} | 0)`
    case 'uint32':
      return `(${v} >>> 0)`
    case 'bool':
      return `(${v} === true)`
    case 'string':
      return `h.str(${v})`
    case 'enum':
      return `(n${i}[${v}] ?? n${i}[0])`
    case 'message':
      return `cf${i}(${v} || h.NO_FIELDS)`
  }
}

/** decodeExpr is the expression reading row i from the wire message `w`. */
function decodeExpr(row: FieldRow, i: number): string {
  const v = `w[${JSON.stringify(row.wire)}]`
  if (row.hook?.fromWire !== undefined) return `hf${i}(${v}, w)`
  if (!row.repeated) return decodeOne(row, i, v)
  if (row.kind === 'enum') return `h.enumList(${v}, n${i})`
  if (row.kind === 'bytes' || row.kind === 'string') return `h.each(${v}, h.${row.kind === 'bytes' ? 'bytes' : 'str'})`
  if (row.kind === 'message') return `h.each(${v}, cf${i})`
  return `h.each(${v}, (e) => ${decodeOne(row, i, 'e')})`
}

function compileFromWire(rows: readonly FieldRow[]): (w: WireMessage) => unknown {
  const always = rows.map((r, i) => [r, i] as const).filter(([r]) => !r.optional)
  const optional = rows.map((r, i) => [r, i] as const).filter(([r]) => r.optional)
  const body = [
    'if (w === null || w === undefined) w = h.NO_FIELDS',
    `const r = { ${always.map(([r, i]) => `${JSON.stringify(r.name)}: ${decodeExpr(r, i)}`).join(', ')} }`,
    'let v',
    ...optional.map(([r, i]) =>
      r.kind === 'message' && r.hook?.fromWire === undefined
        ? `v = w[${JSON.stringify(r.wire)}]; if (v) r[${JSON.stringify(r.name)}] = cf${i}(v)`
        : `v = ${decodeExpr(r, i)}; if (h.isSet(v)) r[${JSON.stringify(r.name)}] = v`,
    ),
    'return r',
  ]
  return compile('fromWire(w)', body, rows) as (w: WireMessage) => unknown
}

/** encodeResponse is the statement writing row i of a response (trusted: built by the engine) into `w`. */
function encodeResponse(row: FieldRow, i: number): string {
  const set = `w[${JSON.stringify(row.wire)}]`
  if (row.hook?.toWire !== undefined) return `v = ht${i}(v, r); if (v !== undefined) ${set} = v`
  if (row.repeated) {
    const map =
      row.kind === 'message' ? `v.map(ct${i})`
      : row.kind === 'id' ? 'v.map(h.longOf)'
      : row.kind === 'uid' ? 'v.map(h.unsignedLongOf)'
      : row.kind === 'enum' ? `v.map((e) => n${i}.indexOf(e))`
      : 'v'
    return `if (v !== undefined && v.length > 0) ${set} = ${map}`
  }
  switch (row.kind) {
    case 'bytes':
      return `if (v !== undefined && v.length > 0) ${set} = v`
    case 'int':
    case 'int32':
      return `if (v !== 0 && v !== undefined) ${set} = v`
    case 'uint32':
      return `if (v !== 0 && v !== undefined) ${set} = v >>> 0`
    case 'id':
      return `if (v !== undefined && v !== 0n && v !== 0) ${set} = h.longOf(v)`
    case 'uid':
      return `if (v !== undefined && v !== 0n && v !== 0) ${set} = h.unsignedLongOf(v)`
    case 'bool':
      return `if (v === true) ${set} = true`
    case 'string':
      return `if (v) ${set} = v`
    case 'enum':
      return `v = n${i}.indexOf(v); if (v > 0) ${set} = v`
    case 'message':
      return `if (v !== undefined) ${set} = ct${i}(v)`
  }
}

const ARG: Partial<Record<FieldKind, string>> = {
  bytes: 'bytesArg',
  int: 'intArg',
  int32: 'intArg',
  uint32: 'intArg',
  id: 'idArg',
  uid: 'uidArg',
  bool: 'boolArg',
  string: 'strArg',
}

/** encodeRequest is the statement checking row i of a request (a caller's: anything may be there) into `w`. */
function encodeRequest(row: FieldRow, i: number, prefix: string): string {
  const set = `w[${JSON.stringify(row.wire)}]`
  const what = JSON.stringify(prefix + row.name)
  if (row.hook?.toWire !== undefined) return `v = ht${i}(v, r); if (v !== undefined) ${set} = v`
  if (row.repeated) {
    const check =
      row.kind === 'message' ? `ct${i}(e)`
      : row.kind === 'enum' ? `h.enumArg(n${i}, e, ${what}) ?? 0`
      : `h.${ARG[row.kind]}(e, ${what}) ?? ${row.kind === 'bytes' ? 'h.EMPTY' : row.kind === 'string' ? "''" : '0'}`
    return `v = h.listArg(v, ${what}); if (v.length > 0) ${set} = v.map((e) => ${check})`
  }
  if (row.kind === 'message') return `if (v !== undefined && v !== null) ${set} = ct${i}(v)`
  if (row.kind === 'enum') return `v = h.enumArg(n${i}, v, ${what}); if (v !== undefined) ${set} = v`
  const check = row.key ? 'keyArg' : ARG[row.kind]!
  return `v = h.${check}(v, ${what}); if (v !== undefined) ${set} = v`
}

function compileToWire(rows: readonly FieldRow[], rules: MessageRules): (r: unknown) => WireMessage {
  const request = rules.request
  const body = [
    ...(request === undefined ? [] : [`h.request(r, ${JSON.stringify(request)})`]),
    'const w = {}',
    'let v',
    ...rows.map((row, i) => {
      const statement = request === undefined ? encodeResponse(row, i) : encodeRequest(row, i, rules.prefix ?? '')
      return `v = r[${JSON.stringify(row.name)}]; ${statement}`
    }),
    'return w',
  ]
  return compile('toWire(r)', body, rows) as (r: unknown) => WireMessage
}

/**
 * compile makes one function from its statements: the helpers and every row's codec, hook and enum names are
 * constants of its closure (`cf3` is row 3's nested fromWire, `n4` row 4's enum names), so a call loads none of them
 * from the table.
 */
function compile(signature: string, statements: readonly string[], rows: readonly FieldRow[]): unknown {
  const constants = [`const { ${Object.keys(helpers).join(', ')} } = h`]
  rows.forEach((row, i) => {
    if (row.codec !== undefined) constants.push(`const cf${i} = x[${i}].codec.fromWire, ct${i} = x[${i}].codec.toWire`)
    if (row.hook?.fromWire !== undefined) constants.push(`const hf${i} = x[${i}].hook.fromWire`)
    if (row.hook?.toWire !== undefined) constants.push(`const ht${i} = x[${i}].hook.toWire`)
    if (row.kind === 'enum') constants.push(`const n${i} = x[${i}].enumNames`)
  })
  const body = statements.join('\n').replace(/\bh\./g, '')
  return new Function('h', 'x', `${constants.join('\n')}\nreturn function ${signature} {\n${body}\n}`)(helpers, rows)
}

/** messageCodec compiles the codec of a message (full name, e.g. 'etcdserverpb.PutRequest') from its field table. */
export function messageCodec<T>(fullName: string, rules: MessageRules = {}): Codec<T> {
  const rows = fieldTable(fullName, rules)
  return { fromWire: compileFromWire(rows) as (w: WireMessage) => T, toWire: compileToWire(rows, rules) as (v: T) => WireMessage }
}
