/**
 * JSON text as etcd's gateway (Go's encoding/json under grpc-gateway's jsonpb) reads and writes it.
 *
 * Reading keeps every number as its source text (`JsonNumber`), because an int64 such as a lease id would lose bits
 * in a double, and because Go's messages quote a number as written ("number 1.5"). Syntax errors use Go's texts
 * ("invalid character 'h' looking for beginning of value", "unexpected EOF"), which etcd returns to the client.
 *
 * Writing escapes strings as Go does: besides JSON's own escapes, `<`, `>`, `&`, U+2028 and U+2029 become \u
 * escapes.
 */

/** JsonNumber is a number as written in the JSON text. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** JsonValue is a parsed JSON value; objects have no prototype, and a repeated name keeps its last value, as Go's. */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject
export interface JsonObject {
  [name: string]: JsonValue
}

/** JsonSyntaxError: the text is not JSON; the message is Go's. */
export class JsonSyntaxError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JsonSyntaxError'
  }
}

/** Parsed is one value read from a text, and where it ended. */
export interface Parsed {
  readonly value: JsonValue
  readonly end: number
}

const NESTING_LIMIT = 10_000

/**
 * parseValue reads one JSON value starting at `start` (after whitespace); the text after it is not read, as Go's
 * json.Decoder leaves it for the next Decode. Returns undefined when only whitespace remains.
 */
export function parseValue(text: string, start = 0): Parsed | undefined {
  const p = new Parser(text, start)
  p.skipSpace()
  if (p.pos >= text.length) return undefined
  try {
    const value = p.value(0)
    return { value, end: p.pos }
  } catch (err) {
    // Nesting deep enough to exhaust the stack (a few thousand levels; Go allows 10000) is refused as Go refuses
    // nesting past its limit. No message of etcd's nests anywhere near that deep.
    if (err instanceof RangeError) throw new JsonSyntaxError(`invalid character ${quoteChar(text[p.pos] ?? ' ')} exceeded max depth`)
    throw err
  }
}

class Parser {
  constructor(
    readonly text: string,
    public pos: number,
  ) {}

  skipSpace(): void {
    const t = this.text
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++
      else break
    }
  }

  fail(context: string): never {
    if (this.pos >= this.text.length) throw new JsonSyntaxError('unexpected EOF')
    throw new JsonSyntaxError(`invalid character ${quoteChar(this.text[this.pos]!)} ${context}`)
  }

  value(depth: number): JsonValue {
    this.skipSpace()
    if (depth >= NESTING_LIMIT) this.fail('exceeded max depth')
    const t = this.text
    const c = t[this.pos]
    if (c === '{') return this.object(depth)
    if (c === '[') return this.array(depth)
    if (c === '"') return this.string()
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number()
    if (t.startsWith('true', this.pos)) return this.literal('true', true)
    if (t.startsWith('false', this.pos)) return this.literal('false', false)
    if (t.startsWith('null', this.pos)) return this.literal('null', null)
    if (c === 't' || c === 'f' || c === 'n') return this.partialLiteral(c === 't' ? 'true' : c === 'f' ? 'false' : 'null')
    return this.fail('looking for beginning of value')
  }

  literal<T>(word: string, v: T): T {
    this.pos += word.length
    return v
  }

  /** partialLiteral: a prefix of true/false/null followed by something else, reported at the wrong character. */
  partialLiteral(word: string): never {
    let i = 0
    while (i < word.length && this.text[this.pos + i] === word[i]) i++
    this.pos += i
    return this.fail(`in literal ${word} (expecting ${quoteChar(word[i]!)})`)
  }

  object(depth: number): JsonObject {
    const out: JsonObject = Object.create(null) as JsonObject
    this.pos++
    this.skipSpace()
    if (this.text[this.pos] === '}') {
      this.pos++
      return out
    }
    for (;;) {
      this.skipSpace()
      if (this.text[this.pos] !== '"') this.fail('looking for beginning of object key string')
      const name = this.string()
      this.skipSpace()
      if (this.text[this.pos] !== ':') this.fail('after object key')
      this.pos++
      out[name] = this.value(depth + 1)
      this.skipSpace()
      const c = this.text[this.pos]
      if (c === ',') {
        this.pos++
        continue
      }
      if (c === '}') {
        this.pos++
        return out
      }
      this.fail('after object key:value pair')
    }
  }

  array(depth: number): JsonValue[] {
    const out: JsonValue[] = []
    this.pos++
    this.skipSpace()
    if (this.text[this.pos] === ']') {
      this.pos++
      return out
    }
    for (;;) {
      out.push(this.value(depth + 1))
      this.skipSpace()
      const c = this.text[this.pos]
      if (c === ',') {
        this.pos++
        continue
      }
      if (c === ']') {
        this.pos++
        return out
      }
      this.fail('after array element')
    }
  }

  string(): string {
    const t = this.text
    let i = this.pos + 1
    let out = ''
    let from = i
    for (;;) {
      if (i >= t.length) {
        this.pos = i
        this.fail('in string literal')
      }
      const c = t.charCodeAt(i)
      if (c === 0x22) break
      if (c < 0x20) {
        this.pos = i
        this.fail('in string literal')
      }
      if (c === 0x5c) {
        out += t.slice(from, i)
        const e = t[i + 1]
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e]
          i += 2
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(t.slice(i + 2, i + 6), 16))
          i += 6
        } else {
          this.pos = e === 'u' ? i + 2 + [...t.slice(i + 2, i + 6)].findIndex((h) => !/[0-9a-fA-F]/.test(h)) : i + 1
          this.fail(e === 'u' ? 'in \\u hexadecimal character escape' : 'in string escape code')
        }
        from = i
        continue
      }
      i++
    }
    out += t.slice(from, i)
    this.pos = i + 1
    return out
  }

  number(): JsonNumber {
    const t = this.text
    const start = this.pos
    let i = start
    if (t[i] === '-') i++
    const digits = () => {
      const from = i
      while (i < t.length && t[i]! >= '0' && t[i]! <= '9') i++
      return i - from
    }
    if (t[i] === '0') i++
    else if (digits() === 0) {
      this.pos = i
      this.fail('in numeric literal')
    }
    if (t[i] === '.') {
      i++
      if (digits() === 0) {
        this.pos = i
        this.fail('after decimal point in numeric literal')
      }
    }
    if (t[i] === 'e' || t[i] === 'E') {
      i++
      if (t[i] === '+' || t[i] === '-') i++
      if (digits() === 0) {
        this.pos = i
        this.fail('in exponent of numeric literal')
      }
    }
    this.pos = i
    return new JsonNumber(t.slice(start, i))
  }
}

/** quoteChar quotes a character as Go's JSON scanner does in its error messages. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''"
  if (c === '"') return `'"'`
  const q = JSON.stringify(c)
  return `'${q.slice(1, -1)}'`
}

/** jsonKind names a value's JSON type as Go's messages do ("number", "string", "bool", "array", "object"). */
export function jsonKind(v: JsonValue): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean') return 'bool'
  if (typeof v === 'string') return 'string'
  if (v instanceof JsonNumber) return 'number'
  if (Array.isArray(v)) return 'array'
  return 'object'
}

const GO_ESCAPES = /[<>&\u2028\u2029]/g
const NEEDS_GO_ESCAPE = /[<>&\u2028\u2029]/

/** goString writes a string as Go's encoding/json does (HTML-safe). */
export function goString(s: string): string {
  const q = JSON.stringify(s)
  return NEEDS_GO_ESCAPE.test(q) ? q.replace(GO_ESCAPES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : q
}
