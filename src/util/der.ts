/**
 * DER: the few ASN.1 encodings (ITU-T X.690, distinguished rules) that an X.509 certificate is written in. Each
 * function returns one complete element (tag, length, contents); constructed elements take their parts already
 * encoded. Enough to write certificates, nothing to read them (Node's X509Certificate does that).
 */

/** element writes one element: its tag byte, its length (short form below 128, long form above) and its contents. */
export function element(tag: number, contents: Uint8Array): Buffer {
  const n = contents.length
  let length: Buffer
  if (n < 0x80) length = Buffer.from([n])
  else {
    const bytes: number[] = []
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
    length = Buffer.from([0x80 | bytes.length, ...bytes])
  }
  return Buffer.concat([Buffer.from([tag]), length, contents])
}

/** sequence: SEQUENCE of the parts, in order. */
export const sequence = (...parts: Uint8Array[]): Buffer => element(0x30, Buffer.concat(parts))

/** set: SET of the parts (callers give at most one part, so DER's sort order holds). */
export const set = (...parts: Uint8Array[]): Buffer => element(0x31, Buffer.concat(parts))

/** explicit wraps an element in a context-specific constructed tag `[n] EXPLICIT`. */
export const explicit = (n: number, inner: Uint8Array): Buffer => element(0xa0 | n, inner)

/** implicit writes `[n] IMPLICIT` of a primitive type: the context tag replaces the type's own. */
export const implicit = (n: number, contents: Uint8Array): Buffer => element(0x80 | n, contents)

/** boolean: BOOLEAN (DER writes TRUE as 0xff). */
export const boolean = (value: boolean): Buffer => element(0x01, Buffer.from([value ? 0xff : 0x00]))

/**
 * unsignedInteger: INTEGER of a non-negative number given as big-endian bytes: leading zero bytes dropped, one
 * zero byte put back when the top bit is set (it would read as negative).
 */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  const trimmed = Buffer.from(bytes.subarray(start))
  if (trimmed.length === 0) return element(0x02, Buffer.from([0]))
  return element(0x02, (trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed)
}

/** smallInteger: INTEGER of a small non-negative number (a version field). */
export function smallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`der: ${value} is not a small integer`)
  return unsignedInteger(Buffer.from([value >> 8, value & 0xff]))
}

/** octetString: OCTET STRING. */
export const octetString = (bytes: Uint8Array): Buffer => element(0x04, bytes)

/** bitString: BIT STRING of whole bytes, or of `bits` leading bits of them (the rest of the last byte unused). */
export function bitString(bytes: Uint8Array, bits = bytes.length * 8): Buffer {
  const unused = bytes.length * 8 - bits
  if (unused < 0 || unused > 7) throw new RangeError('der: a bit string uses all but at most 7 bits of its last byte')
  return element(0x03, Buffer.concat([Buffer.from([unused]), bytes]))
}

/** utf8String: UTF8String. */
export const utf8String = (text: string): Buffer => element(0x0c, Buffer.from(text, 'utf8'))

/** objectIdentifier: OBJECT IDENTIFIER from its dotted form ('2.5.4.3'), each arc in base-128. */
export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new TypeError(`der: bad object identifier ${JSON.stringify(dotted)}`)
    return Number(s)
  })
  if (arcs.length < 2) throw new TypeError(`der: bad object identifier ${JSON.stringify(dotted)}`)
  const bytes: number[] = []
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const groups: number[] = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f))
    bytes.push(...groups)
  }
  return element(0x06, Buffer.from(bytes))
}

/** utcTime: UTCTime ("YYMMDDHHMMSSZ"), which X.509 uses for dates from 1950 to 2049. */
export function utcTime(date: Date): Buffer {
  const year = date.getUTCFullYear()
  if (year < 1950 || year > 2049) throw new RangeError('der: UTCTime holds the years 1950 to 2049')
  const two = (n: number) => String(n).padStart(2, '0')
  const text =
    two(year % 100) + two(date.getUTCMonth() + 1) + two(date.getUTCDate()) + two(date.getUTCHours()) + two(date.getUTCMinutes()) + two(date.getUTCSeconds()) + 'Z'
  return element(0x17, Buffer.from(text, 'latin1'))
}
