import { Buffer } from 'node:buffer'

/**
 * A small protobuf codec for the few messages etcd keeps in its bbolt file (mvccpb.KeyValue, leasepb.Lease,
 * authpb.User, authpb.Role): varints, int64 as bigint, length-delimited bytes. Encoders write fields in field order
 * and skip zero values, as gogoproto does, so a record reads back byte for byte what etcd writes. Decoders skip
 * unknown fields and throw a ProtoError on anything malformed.
 */

export class ProtoError extends Error {}

const VARINT = 0
const I64 = 1
const LEN = 2
const I32 = 5

/** ProtoWriter appends fields to a growing list of parts. */
export class ProtoWriter {
  readonly #parts: number[] = []
  readonly #chunks: Buffer[] = []

  #varint(v: bigint): void {
    // int64 fields encode negative numbers as their two's complement, ten bytes long.
    let u = BigInt.asUintN(64, v)
    while (u >= 0x80n) {
      this.#parts.push(Number(u & 0x7fn) | 0x80)
      u >>= 7n
    }
    this.#parts.push(Number(u))
  }

  #smallVarint(v: number): void {
    while (v >= 0x80) {
      this.#parts.push((v & 0x7f) | 0x80)
      v = Math.floor(v / 128)
    }
    this.#parts.push(v)
  }

  #flush(): void {
    if (this.#parts.length > 0) this.#chunks.push(Buffer.from(this.#parts.splice(0)))
  }

  /** int64 writes a varint field unless it is zero. */
  int64(field: number, v: bigint | number): this {
    if (v === 0 || v === 0n) return this
    this.#smallVarint((field << 3) | VARINT)
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) this.#smallVarint(v)
    else this.#varint(BigInt(v))
    return this
  }

  bool(field: number, v: boolean): this {
    return v ? this.int64(field, 1) : this
  }

  /** bytes writes a length-delimited field unless it is empty (`always` writes it even then). */
  bytes(field: number, v: Uint8Array, always = false): this {
    if (v.length === 0 && !always) return this
    this.#smallVarint((field << 3) | LEN)
    this.#smallVarint(v.length)
    this.#flush()
    this.#chunks.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength))
    return this
  }

  finish(): Buffer {
    this.#flush()
    return this.#chunks.length === 1 ? Buffer.from(this.#chunks[0]!) : Buffer.concat(this.#chunks)
  }
}

/** ProtoField is one decoded field: a varint (as bigint) or length-delimited bytes. */
export type ProtoField = { readonly field: number; readonly varint: bigint; readonly bytes?: undefined } | { readonly field: number; readonly bytes: Buffer; readonly varint?: undefined }

/** readFields decodes a message into its fields, in order; fixed-width fields are skipped. */
export function readFields(buf: Buffer): ProtoField[] {
  const out: ProtoField[] = []
  let at = 0
  const varint = (): bigint => {
    let v = 0n
    for (let shift = 0n; ; shift += 7n) {
      if (at >= buf.length) throw new ProtoError('truncated varint')
      if (shift > 63n) throw new ProtoError('varint longer than 10 bytes')
      const b = buf[at++]!
      v |= BigInt(b & 0x7f) << shift
      if (b < 0x80) return BigInt.asUintN(64, v)
    }
  }
  while (at < buf.length) {
    const tag = varint()
    const field = Number(tag >> 3n)
    const wire = Number(tag & 7n)
    if (field === 0) throw new ProtoError('field number 0')
    if (wire === VARINT) out.push({ field, varint: varint() })
    else if (wire === LEN) {
      const len = Number(varint())
      if (at + len > buf.length) throw new ProtoError(`field ${field} runs past the end`)
      out.push({ field, bytes: buf.subarray(at, at + len) })
      at += len
    } else if (wire === I64) at += 8
    else if (wire === I32) at += 4
    else throw new ProtoError(`wire type ${wire} of field ${field}`)
    if (at > buf.length) throw new ProtoError(`field ${field} runs past the end`)
  }
  return out
}

/** asInt64 reads a varint field as a signed int64. */
export function asInt64(f: ProtoField): bigint {
  if (f.varint === undefined) throw new ProtoError(`field ${f.field} should be a number`)
  return BigInt.asIntN(64, f.varint)
}

/** asBytes reads a length-delimited field. */
export function asBytes(f: ProtoField): Buffer {
  if (f.bytes === undefined) throw new ProtoError(`field ${f.field} should be bytes`)
  return f.bytes
}
