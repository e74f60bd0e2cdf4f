/**
 * Syntax tokens of JSON and YAML values, for the editor's highlighting. The tokenizers never fail: text that does not
 * parse is still split into tokens (what cannot be read is 'plain'), so the editor highlights a value while it is
 * being typed, and validation (value-formats.ts) says separately what is wrong. Concatenating the tokens' texts gives
 * back the input exactly.
 */

export const TOKEN_KINDS = ['key', 'string', 'number', 'literal', 'punct', 'comment', 'anchor', 'tag', 'plain'] as const
export type TokenKind = (typeof TOKEN_KINDS)[number]

export interface Token {
  readonly kind: TokenKind
  readonly text: string
}

export type SyntaxLanguage = 'json' | 'yaml'

/** tokenize splits `text` into the tokens of a JSON or YAML document, in order. O(text.length). */
export function tokenize(text: string, language: SyntaxLanguage): Token[] {
  return language === 'json' ? jsonTokens(text) : yamlTokens(text)
}

const JSON_NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const JSON_LITERAL = /(?:true|false|null)\b/y
const WHITESPACE = /\s+/y

/** jsonTokens: strings (keys when a ':' follows), numbers, true/false/null, punctuation; anything else is plain. */
function jsonTokens(text: string): Token[] {
  const out: Token[] = []
  let at = 0
  while (at < text.length) {
    const c = text[at]!
    let end: number
    let kind: TokenKind = 'plain'
    if (c === '"') {
      end = quotedEnd(text, at, '"')
      kind = nextNonSpace(text, end) === ':' ? 'key' : 'string'
    } else if ('{}[],:'.includes(c)) {
      end = at + 1
      kind = 'punct'
    } else if ((end = stickyEnd(WHITESPACE, text, at)) > at) {
      kind = 'plain'
    } else if ((end = stickyEnd(JSON_NUMBER, text, at)) > at) {
      kind = 'number'
    } else if ((end = stickyEnd(JSON_LITERAL, text, at)) > at) {
      kind = 'literal'
    } else {
      // Anything else runs to the next character JSON gives a meaning to.
      end = at + 1
      while (end < text.length && !/[\s"{}[\],:]/.test(text[end]!)) end++
    }
    push(out, kind, text.slice(at, end))
    at = end
  }
  return out
}

const YAML_NUMBER = /^[-+]?(?:\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|0x[\da-fA-F]+|0o[0-7]+|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN)$/
const YAML_LITERAL = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$/
const BLOCK_SCALAR = /[|>][-+0-9]*(?=\s*(?:#.*)?$)/y
const DOCUMENT_MARKER = /(?:---|\.\.\.)(?=\s|$)/y

/**
 * yamlTokens reads YAML line by line: comments, document markers, sequence and flow punctuation, anchors, aliases and
 * tags, quoted and plain scalars (a scalar followed by ': ' is a key; a plain one that YAML reads as a number, a
 * boolean or null is shown as such), and the lines of a block scalar (after `|` or `>`) as one string.
 */
function yamlTokens(text: string): Token[] {
  const out: Token[] = []
  // blockParent: the indentation of the line that opened a block scalar, while its content lines follow.
  let blockParent = -1
  let flowDepth = 0
  for (const line of text.split(/(?<=\n)/)) {
    const indent = /^ */.exec(line)![0].length
    if (blockParent >= 0) {
      if (line.trim() === '' || indent > blockParent) {
        push(out, 'string', line)
        continue
      }
      blockParent = -1
    }
    let at = 0
    const end = line.length
    if (stickyEnd(DOCUMENT_MARKER, line, 0) > 0) {
      push(out, 'punct', line.slice(0, 3))
      at = 3
    }
    while (at < end) {
      const c = line[at]!
      let next: number
      let kind: TokenKind = 'plain'
      if ((next = stickyEnd(WHITESPACE, line, at)) > at) {
        kind = 'plain'
      } else if (c === '#' && (at === 0 || /\s/.test(line[at - 1]!))) {
        next = line.endsWith('\n') ? end - 1 : end
        kind = 'comment'
      } else if ((c === '-' || c === '?' || c === ':') && (at + 1 === end || /\s/.test(line[at + 1]!))) {
        next = at + 1
        kind = 'punct'
      } else if ('[]{},'.includes(c) || (c === ':' && flowDepth > 0)) {
        if (c === '[' || c === '{') flowDepth++
        if ((c === ']' || c === '}') && flowDepth > 0) flowDepth--
        next = at + 1
        kind = 'punct'
      } else if ((c === '&' || c === '*' || c === '!') && at + 1 < end && !/\s/.test(line[at + 1]!)) {
        next = at + 1
        while (next < end && !/[\s,[\]{}]/.test(line[next]!)) next++
        kind = c === '!' ? 'tag' : 'anchor'
      } else if ((next = stickyEnd(BLOCK_SCALAR, line, at)) > at) {
        kind = 'punct'
        blockParent = indent
      } else if (c === '"' || c === "'") {
        next = quotedEnd(line, at, c)
        kind = isKeyEnd(line, next) ? 'key' : 'string'
      } else {
        next = plainEnd(line, at, flowDepth > 0)
        const scalar = line.slice(at, next)
        kind = isKeyEnd(line, next) ? 'key' : YAML_NUMBER.test(scalar) ? 'number' : YAML_LITERAL.test(scalar) ? 'literal' : 'string'
      }
      push(out, kind, line.slice(at, next))
      at = next
    }
  }
  return out
}

/** plainEnd finds where a plain scalar ends: before ': ', ' #', the line's end, or (in flow context) a flow character. */
function plainEnd(line: string, at: number, inFlow: boolean): number {
  let end = at + 1
  while (end < line.length) {
    const c = line[end]!
    if (c === '\n') break
    if (c === ':' && (end + 1 === line.length || /[\s,[\]{}]/.test(line[end + 1]!))) break
    if (c === '#' && /\s/.test(line[end - 1]!)) break
    if (inFlow && ',[]{}'.includes(c)) break
    end++
  }
  // Trailing spaces belong to the whitespace after the scalar.
  while (end > at + 1 && /\s/.test(line[end - 1]!)) end--
  return end
}

/** isKeyEnd: a ':' follows (after spaces), itself followed by a space, the end of the line or a flow character. */
function isKeyEnd(line: string, at: number): boolean {
  let i = at
  while (line[i] === ' ' || line[i] === '\t') i++
  return line[i] === ':' && (i + 1 === line.length || /[\s,[\]{}]/.test(line[i + 1]!))
}

/** quotedEnd is the end of a quoted string starting at `at` ('' doubles a quote in YAML's single-quoted style). */
function quotedEnd(text: string, at: number, quote: string): number {
  let i = at + 1
  while (i < text.length) {
    const c = text[i]!
    if (c === '\n' && quote === '"' && text[i - 1] !== '\\') return i
    if (c === '\\' && quote === '"') i += 2
    else if (c === quote && quote === "'" && text[i + 1] === "'") i += 2
    else if (c === quote) return i + 1
    else i++
  }
  return text.length
}

function nextNonSpace(text: string, at: number): string | undefined {
  let i = at
  while (i < text.length && /\s/.test(text[i]!)) i++
  return text[i]
}

function stickyEnd(pattern: RegExp, text: string, at: number): number {
  pattern.lastIndex = at
  return pattern.test(text) ? pattern.lastIndex : at
}

/** push appends a token, merging it into the last one when both are of the same kind. */
function push(out: Token[], kind: TokenKind, text: string): void {
  if (text === '') return
  const last = out[out.length - 1]
  if (last !== undefined && last.kind === kind) out[out.length - 1] = { kind, text: last.text + text }
  else out.push({ kind, text })
}
