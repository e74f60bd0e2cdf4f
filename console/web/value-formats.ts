import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { decodeUtf8, fromBase64, fromHex, isPrintable, toBase64, toHex, utf8Bytes } from './bytes.ts'

/**
 * Value formats: how the editor shows a value's bytes and reads them back. Text, JSON and YAML are UTF-8 (JSON and
 * YAML are shown pretty-printed and must parse before they are saved); hex and base64 show any bytes.
 */

export const FORMATS = ['text', 'json', 'yaml', 'hex', 'base64'] as const
export type Format = (typeof FORMATS)[number]

export const FORMAT_LABELS: Record<Format, string> = { text: 'Text', json: 'JSON', yaml: 'YAML', hex: 'Hex', base64: 'Base64' }

/** guessFormat picks how to show a value first: JSON or YAML documents as such, other text as text, bytes as hex. */
export function guessFormat(value: Uint8Array): Format {
  const text = decodeUtf8(value)
  if (text === undefined || !isPrintable(text)) return 'hex'
  const trimmed = text.trim()
  if (/^[[{]/.test(trimmed)) {
    try {
      JSON.parse(trimmed)
      return 'json'
    } catch {
      return 'text'
    }
  }
  if (/^[\w-]+:\s/m.test(trimmed) && trimmed.includes('\n')) {
    try {
      const doc: unknown = parseYaml(trimmed)
      if (typeof doc === 'object' && doc !== null) return 'yaml'
    } catch {
      return 'text'
    }
  }
  return 'text'
}

/** show renders bytes in a format; undefined when the bytes are not that format (binary as JSON, say). */
export function show(value: Uint8Array, format: Format): string | undefined {
  if (format === 'hex') return toHex(value)
  if (format === 'base64') return toBase64(value)
  const text = decodeUtf8(value)
  if (text === undefined) return undefined
  try {
    if (format === 'json') return JSON.stringify(JSON.parse(text), null, 2)
    if (format === 'yaml') return stringifyYaml(parseYaml(text))
  } catch {
    return undefined
  }
  return text
}

/**
 * read turns the editor's text back into bytes. JSON and YAML must parse; they are saved as typed (not reformatted).
 * @throws Error saying what is wrong
 */
export function read(text: string, format: Format): Uint8Array {
  switch (format) {
    case 'json':
      try {
        JSON.parse(text)
      } catch (err) {
        throw new Error(`invalid JSON: ${(err as Error).message}`)
      }
      return utf8Bytes(text)
    case 'yaml':
      try {
        parseYaml(text)
      } catch (err) {
        throw new Error(`invalid YAML: ${(err as Error).message.split('\n')[0]}`)
      }
      return utf8Bytes(text)
    case 'hex':
      return fromHex(text)
    case 'base64':
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text.replace(/\s+/g, ''))) throw new Error('base64: not valid base64')
      return fromBase64(text.replace(/\s+/g, ''))
    default:
      return utf8Bytes(text)
  }
}
