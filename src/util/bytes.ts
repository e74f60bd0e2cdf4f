import { Buffer } from 'node:buffer'

/**
 * Bytes are what etcd stores: keys and values are byte strings, ordered as unsigned bytes (memcmp).
 *
 * Inside the engine a byte string is held as a latin1 ("binary") JS string, one char per byte. Its default JS order
 * is then exactly unsigned byte order, it hashes in a Map, it is immutable (so records can be shared without copies),
 * and V8 stores it one byte per char.
 */
export type Bin = string

/** BytesLike is what the public API accepts wherever etcd takes bytes: raw bytes, or a string encoded as UTF-8. */
export type BytesLike = Uint8Array | string

/**
 * toBin converts API bytes to the engine's form. Strings are UTF-8 encoded first.
 * @throws TypeError when the value is neither a string nor a Uint8Array.
 */
export function toBin(value: BytesLike, what = 'key'): Bin {
  if (typeof value === 'string') {
    // Pure ASCII strings are their own latin1 form; this saves an encode on the common path.
    return isAscii(value) ? value : Buffer.from(value, 'utf8').toString('latin1')
  }
  if (value instanceof Buffer) return (value as LatinSliceable).latin1Slice(0, value.length)
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1')
  }
  return notBytes(value, what)
}

/** notBytes throws the TypeError of a value given where bytes belong (a string or a Uint8Array). */
export function notBytes(value: unknown, what: string): never {
  throw new TypeError(`${what} must be a string or a Uint8Array, got ${describe(value)}`)
}

/** toBinOptional is toBin for optional fields: undefined and null become the empty byte string. */
export function toBinOptional(value: BytesLike | undefined | null, what: string): Bin {
  return value === undefined || value === null ? '' : toBin(value, what)
}

/** fromBin returns a fresh Buffer (a Uint8Array) holding the bytes; `buf.toString()` decodes it as UTF-8. */
export function fromBin(bin: Bin): Buffer {
  return Buffer.from(bin, 'latin1')
}

/** binToUtf8 decodes engine bytes as UTF-8 text (for messages and debugging). */
export function binToUtf8(bin: Bin): string {
  return Buffer.from(bin, 'latin1').toString('utf8')
}

/**
 * prefixEnd returns the range end that selects every key starting with `prefix`, as etcd's clients compute it:
 * the prefix with its last byte below 0xff incremented and everything after it dropped; a prefix of only 0xff bytes
 * (or the empty prefix) has no such end, and "\0" ("every key from here on") is returned instead.
 */
export function prefixEnd(prefix: Bin): Bin {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i)
    if (c < 0xff) return prefix.slice(0, i) + String.fromCharCode(c + 1)
  }
  return '\0'
}

/** compareBin orders two byte strings as unsigned bytes; latin1 strings compare that way natively. */
export function compareBin(a: Bin, b: Bin): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** LatinSliceable: Buffer's own latin1 decoder, which skips toString's encoding dispatch on the hot path. */
type LatinSliceable = Buffer & { latin1Slice(start: number, end: number): string }

/** isAscii: a string whose UTF-8 length is its length has only ASCII characters (one native call, no scan in JS). */
function isAscii(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') === s.length
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

/** u32be writes `v` (0 to 2^32 - 1) big-endian at `at`, byte by byte (cheaper than Buffer's checked writer in hot loops). */
export function u32be(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 24
  buf[at + 1] = (v >>> 16) & 0xff
  buf[at + 2] = (v >>> 8) & 0xff
  buf[at + 3] = v & 0xff
}
