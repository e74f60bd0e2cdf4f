/**
 * Keys and values are bytes. The gateway carries them as base64; the page shows them as text where they are
 * printable UTF-8 and escapes every other byte as \xNN (a backslash as \\), so any key can be shown, typed back
 * and sent exactly.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

export function fromBase64(b64: string | undefined): Uint8Array {
  if (b64 === undefined || b64 === '') return new Uint8Array(0)
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function toBase64(bytes: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

/** decodeUtf8 is the text of bytes that are valid UTF-8, or undefined. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes)
  } catch {
    return undefined
  }
}

/** isPrintable: text with no control characters but tab, newline and carriage return. */
export function isPrintable(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)
}

/** escapeBytes shows bytes as text: printable UTF-8 as itself, other bytes as \xNN, a backslash as \\. */
export function escapeBytes(bytes: Uint8Array): string {
  const text = decodeUtf8(bytes)
  if (text !== undefined && isPrintable(text) && !/[\n\r\t]/.test(text)) return text.replace(/\\/g, '\\\\')
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i]!
    const width = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0
    const char = width === 0 ? undefined : decodeUtf8(bytes.subarray(i, i + width))
    if (char !== undefined && width > 0 && isPrintable(char) && !/[\n\r\t]/.test(char)) {
      out += char === '\\' ? '\\\\' : char
      i += width
    } else {
      out += `\\x${b.toString(16).padStart(2, '0')}`
      i++
    }
  }
  return out
}

/** unescapeBytes reads what escapeBytes writes (and what a user types): \xNN is a byte, \\ a backslash. */
export function unescapeBytes(text: string): Uint8Array {
  const parts: number[] = []
  let i = 0
  while (i < text.length) {
    if (text[i] === '\\' && text[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      parts.push(parseInt(text.slice(i + 2, i + 4), 16))
      i += 4
    } else if (text[i] === '\\' && text[i + 1] === '\\') {
      parts.push(0x5c)
      i += 2
    } else {
      const cp = text.codePointAt(i)!
      const ch = String.fromCodePoint(cp)
      parts.push(...encoder.encode(ch))
      i += ch.length
    }
  }
  return Uint8Array.from(parts)
}

/** prefixEnd is the range end covering every key that starts with `prefix` (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1)
      end[i]!++
      return end
    }
  }
  return Uint8Array.of(0)
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
  return true
}

export function indexOfBytes(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  if (needle.length === 0) return -1
  outer: for (let i = from; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, b)
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')
}

/** fromHex reads hex digits, spaces allowed between them. @throws Error on anything else */
export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '')
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error('hex: expected pairs of hex digits')
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16))
}
