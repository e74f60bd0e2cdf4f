import { describe, expect, test } from 'vitest'
import { tokenize, type SyntaxLanguage, type Token } from '../../console/web/syntax-tokens.ts'
import { parseProblem } from '../../console/web/value-formats.ts'

/** The console's JSON and YAML tokenizers (highlighting) and the inline validation's line, column and message. */

/** kinds lists the tokens that are not whitespace, as "kind:text" (neighbours of one kind are one token). */
const kinds = (text: string, language: SyntaxLanguage) =>
  tokenize(text, language)
    .filter((t) => t.text.trim() !== '')
    .map((t) => `${t.kind}:${t.text.trim()}`)

describe('syntax tokens', () => {
  test('JSON: keys, strings, numbers, literals and punctuation', () => {
    expect(kinds('{"port": 8080, "name": "a\\"b", "on": true, "x": null, "f": -1.5e3, "l": [1]}', 'json')).toEqual([
      'punct:{', 'key:"port"', 'punct::', 'number:8080', 'punct:,', 'key:"name"', 'punct::', 'string:"a\\"b"', 'punct:,',
      'key:"on"', 'punct::', 'literal:true', 'punct:,', 'key:"x"', 'punct::', 'literal:null', 'punct:,', 'key:"f"', 'punct::',
      'number:-1.5e3', 'punct:,', 'key:"l"', 'punct::', 'punct:[', 'number:1', 'punct:]}',
    ])
  })

  test('YAML: keys, scalars by what YAML reads them as, comments, sequences, anchors, tags and flow collections', () => {
    const doc = '---\nname: shop # the name\nport: 8080\ndebug: false\nnothing: ~\n"quoted key": \'it\'\'s\'\nlist:\n  - a b\n  - &x 1.5\nref: *x\ntagged: !!str 42\nflow: {a: 1, b: [x, "y"]}\nurl: http://h:80/p\n'
    expect(kinds(doc, 'yaml')).toEqual([
      'punct:---', 'key:name', 'punct::', 'string:shop', 'comment:# the name', 'key:port', 'punct::', 'number:8080',
      'key:debug', 'punct::', 'literal:false', 'key:nothing', 'punct::', 'literal:~', 'key:"quoted key"', 'punct::',
      "string:'it''s'", 'key:list', 'punct::', 'punct:-', 'string:a b', 'punct:-', 'anchor:&x', 'number:1.5', 'key:ref',
      'punct::', 'anchor:*x', 'key:tagged', 'punct::', 'tag:!!str', 'number:42', 'key:flow', 'punct::', 'punct:{', 'key:a',
      'punct::', 'number:1', 'punct:,', 'key:b', 'punct::', 'punct:[', 'string:x', 'punct:,', 'string:"y"', 'punct:]}',
      'key:url', 'punct::', 'string:http://h:80/p',
    ])
  })

  test('YAML: the lines of a block scalar are one string, up to the first line indented no deeper than its key', () => {
    expect(kinds('script: |\n  echo # not a comment\n\n  done\nnext: 1\n', 'yaml')).toEqual([
      'key:script', 'punct::', 'punct:|', 'string:echo # not a comment\n\n  done', 'key:next', 'punct::', 'number:1',
    ])
  })

  test.each<[SyntaxLanguage, string]>([
    ['json', '{"a": [1, 2,, "unterminated\n  }'],
    ['json', '\u00e9 @@ {"\ud83d\ude00": 1}'],
    ['yaml', 'a: [1, {b: "x\n- : :: #\n\t? |\n  x\n\'open'],
    ['yaml', ''],
  ])('%s tokens always give back the text exactly, even when it does not parse (%#)', (language, text) => {
    const tokens: Token[] = tokenize(text, language)
    expect(tokens.map((t) => t.text).join('')).toBe(text)
    expect(tokens.every((t) => t.text !== '')).toBe(true)
  })
})

describe('validation of JSON and YAML values', () => {
  test('invalid JSON: where the parser stopped, as line and column, and its message', () => {
    const p = parseProblem('{\n  "port": 80\n  "x": 1\n}', 'json')!
    expect([p.line, p.column, p.offset]).toEqual([3, 3, 17])
    expect(p.message).not.toMatch(/position/)
    expect(p.message.length).toBeGreaterThan(5)
  })

  test('JSON that ends too soon is marked at its end', () => {
    const p = parseProblem('{"a": [1,', 'json')!
    expect([p.line, p.column, p.offset]).toEqual([1, 10, 9])
  })

  test("invalid YAML: the yaml parser's first error, its line and column, without the picture of the line", () => {
    const p = parseProblem('name: shop\nports: [80, 443\nother: x\n', 'yaml')!
    expect(p.line).toBeGreaterThanOrEqual(2)
    expect(p.message).not.toMatch(/\n|at line/)
    expect(p.message).toMatch(/flow sequence|\]/i)
  })

  test.each([
    ['json', '{"a": [1, 2]}'],
    ['yaml', 'a: [1, 2]\nb: |\n  text\n'],
    ['text', '{ not json'],
    ['hex', 'zz'],
  ] as const)('%s that parses (or needs no parsing) has no problem', (format, text) => {
    expect(parseProblem(text, format)).toBeUndefined()
  })
})
