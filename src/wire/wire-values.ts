import { Buffer } from 'node:buffer'
import { notBytes } from '../util/bytes.ts'
import { int as safeInt, leaseId } from '../util/fields.ts'
import { bool, requestObject } from '../messages/request-checks.ts'
import type { Long, WireInt, WireMessage } from './proto.ts'

/**
 * The values of the wire, one field at a time: how a decoded protobufjs field reads at the services level
 * (`int`, `id`, `uid`, `bytes`, `str`) and how a request's field is checked and written for the network (`...Arg`).
 * The codecs (message-codec.ts and the hand-written rules in codec*.ts) are made of these.
 */

/** Codec converts one message between its wire form and its services-level form. */
export interface Codec<T> {
  fromWire(wire: WireMessage): T
  toWire(value: T): WireMessage
}

export const EMPTY = Buffer.alloc(0)
const TWO_32 = 4294967296

// ---- numbers

/** int reads an int64 / uint64 wire field as a number, clamped to the safe integers. */
export function int(v: WireInt | null | undefined): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'number') return v
  const high = (v as Long).unsigned ? v.high >>> 0 : v.high | 0
  if (high === 0) return v.low >>> 0
  const n = high * TWO_32 + (v.low >>> 0)
  return n > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : n < Number.MIN_SAFE_INTEGER ? Number.MIN_SAFE_INTEGER : n
}

/**
 * IdSlots remembers the last two uint64 ids converted in each direction. The cluster and member ids of an engine
 * repeat on every response header: with them remembered, each is converted once, not once per response. (Lease ids
 * vary and are converted as they come.)
 */
class IdSlots<K, V> {
  private k0: K | undefined
  private v0: V | undefined
  private k1: K | undefined
  private v1: V | undefined

  get(k: K): V | undefined {
    return k === this.k0 ? this.v0 : k === this.k1 ? this.v1 : undefined
  }

  set(k: K, v: V): V {
    this.k1 = this.k0
    this.v1 = this.v0
    this.k0 = k
    this.v0 = v
    return v
  }
}

const unsignedIds = new IdSlots<number, { high: number; value: bigint }>()

/** id reads a signed int64 wire field (lease ids) as a bigint, losslessly. */
export function id(v: WireInt | null | undefined): bigint {
  if (v === undefined || v === null) return 0n
  if (typeof v === 'number') return BigInt(v)
  if (v.low === 0 && v.high === 0) return 0n
  return BigInt.asIntN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0))
}

/** uid reads an unsigned uint64 wire field (cluster and member ids) as a bigint, losslessly. */
export function uid(v: WireInt | null | undefined): bigint {
  if (v === undefined || v === null) return 0n
  if (typeof v === 'number') return BigInt(v)
  if (v.low === 0 && v.high === 0) return 0n
  const hit = unsignedIds.get(v.low)
  if (hit !== undefined && hit.high === v.high) return hit.value
  return unsignedIds.set(v.low, { high: v.high, value: (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0) }).value
}

/** LongBits is a 64-bit integer as the two 32-bit halves protobufjs encodes. */
export interface LongBits {
  low: number
  high: number
}

/** long writes a bigint id as the two 32-bit halves protobufjs encodes (two's complement, so negatives work). */
export function long(b: bigint): LongBits {
  return { low: Number(b & 0xffffffffn) | 0, high: Number((b >> 32n) & 0xffffffffn) | 0 }
}

const unsignedLongs = new IdSlots<bigint, LongBits>()

/** unsignedLong is `long` for the uint64 ids (cluster and member ids), which repeat: each is converted once. */
export function unsignedLong(b: bigint): LongBits {
  return unsignedLongs.get(b) ?? unsignedLongs.set(b, long(b))
}

// ---- bytes and strings

/** bytes reads a bytes wire field; an absent one decodes as protobufjs' shared empty array. */
export function bytes(v: unknown): Buffer {
  return v === undefined || v === null || (v as Uint8Array).length === 0 ? EMPTY : (v as Buffer)
}

/** str reads a string wire field; absent is ''. */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

// ---- a request's fields, checked and written for the wire (undefined: leave the field out)

/** BytesArg is what a request may hold where etcd takes bytes. */
export type BytesArg = Uint8Array | string | undefined | null

/** bytesArg checks a request's bytes field and returns it as the wire takes it; undefined for empty or absent. */
export function bytesArg(v: BytesArg, what: string): Uint8Array | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') return v.length === 0 ? undefined : Buffer.from(v, 'utf8')
  if (v instanceof Uint8Array) return v.length === 0 ? undefined : v
  return notBytes(v, what)
}

/** keyArg is bytesArg for a required key: absent is a TypeError, as the engine has it; empty goes as empty. */
export function keyArg(v: BytesArg, what = 'key'): Uint8Array | undefined {
  if (v === undefined || v === null) return notBytes(v, what)
  return bytesArg(v, what)
}

/** strArg checks a request's string field; undefined for empty or absent. */
export function strArg(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string`)
  return v
}

/** intArg checks an integer field of a request; undefined for 0 or absent. */
export function intArg(v: number | undefined | null, what: string): number | undefined {
  const n = safeInt(v, what)
  return n === 0 ? undefined : n
}

/** idArg checks a signed id field of a request (lease ids); undefined for 0 or absent. */
export function idArg(v: bigint | number | undefined | null, what: string): LongBits | undefined {
  const b = leaseId(v, what)
  return b === 0n ? undefined : long(b)
}

const UINT64_MAX = 2n ** 64n - 1n

/** uidArg checks an unsigned id field of a request (member ids); undefined for 0 or absent. */
export function uidArg(v: bigint | number | undefined | null, what: string): LongBits | undefined {
  if (v === undefined || v === null || v === 0 || v === 0n) return undefined
  const b = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v
  if (typeof b !== 'bigint') throw new TypeError(`${what} must be a bigint or a safe integer, got ${String(v)}`)
  if (b < 0n || b > UINT64_MAX) throw new RangeError(`${what} ${b} is not a uint64`)
  return unsignedLong(b)
}

/** boolArg checks a boolean field of a request; undefined for false or absent. */
export function boolArg(v: boolean | undefined | null, what: string): true | undefined {
  return bool(v, what) ? true : undefined
}

/** request checks that a request is an object. */
export function request<T>(v: T, what: string): T {
  requestObject(v, what)
  return v
}

/** field adds a field to a wire message unless it holds the default (0, false, empty, absent). */
export function field(w: WireMessage, name: string, v: unknown): void {
  if (v !== undefined && v !== 0 && v !== false && v !== '') w[name] = v
}
