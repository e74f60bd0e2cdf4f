import { parse as parseYaml, parseDocument } from 'yaml'
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
    if (format === 'yaml') {
      // Through the document, so comments stay where they were.
      const doc = parseDocument(text)
      return doc.errors.length > 0 ? undefined : doc.toString()
    }
  } catch {
    return undefined
  }
  return text
}

/** ParseProblem is why a JSON or YAML text does not parse: the parser's message and where (1-based line and column). */
export interface ParseProblem {
  readonly message: string
  /** offset is the position in the text (UTF-16 units) the parser stopped at. */
  readonly offset: number
  readonly line: number
  readonly column: number
}

/** parseProblem checks a JSON or YAML text: undefined when it parses (and for the formats that need no parsing). */
export function parseProblem(text: string, format: Format): ParseProblem | undefined {
  if (format === 'json') {
    try {
      JSON.parse(text)
      return undefined
    } catch (err) {
      // V8 says where as "at position N" (newer versions add "(line L column C)"); "Unexpected end" at the end.
      const message = (err as Error).message
      const at = /at position (\d+)/.exec(message)
      const offset = at === null ? text.length : Math.min(Number(at[1]), text.length)
      return problemAt(text, offset, message.replace(/ at position \d+.*$/s, '').replace(/ in JSON$/, ''))
    }
  }
  if (format === 'yaml') {
    const error = parseDocument(text).errors[0]
    if (error === undefined) return undefined
    // The yaml package's message ends with " at line L, column C:" and a picture of the line; keep the sentence.
    const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
    return problemAt(text, Math.min(error.pos[0], text.length), message)
  }
  return undefined
}

function problemAt(text: string, offset: number, message: string): ParseProblem {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return { message, offset, line, column: offset - before.lastIndexOf('\n') }
}

/** describeProblem is the one-line text the page shows for a problem: "line L, column C: message". */
export function describeProblem(p: ParseProblem): string {
  return `line ${p.line}, column ${p.column}: ${p.message}`
}

/**
 * read turns the editor's text back into bytes. JSON and YAML must parse; they are saved as typed (not reformatted).
 * @throws Error saying what is wrong
 */
export function read(text: string, format: Format): Uint8Array {
  switch (format) {
    case 'json':
    case 'yaml': {
      const problem = parseProblem(text, format)
      if (problem !== undefined) throw new Error(`invalid ${FORMAT_LABELS[format]}: ${describeProblem(problem)}`)
      return utf8Bytes(text)
    }
    case 'hex':
      return fromHex(text)
    case 'base64':
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text.replace(/\s+/g, ''))) throw new Error('base64: not valid base64')
      return fromBase64(text.replace(/\s+/g, ''))
    default:
      return utf8Bytes(text)
  }
}
