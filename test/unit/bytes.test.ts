import { describe, expect, test } from 'vitest'
import { fromBin, prefixEnd, toBin } from '../../src/util/bytes.ts'

describe('bytes', () => {
  test.each([
    ['a', 'b'],
    ['a\xff', 'b'],
    ['\xff\xff', '\0'],
    ['', '\0'],
    ['ab\xffc', 'ab\xffd'],
  ])('prefixEnd(%j) is %j', (prefix, end) => {
    expect(prefixEnd(prefix)).toBe(end)
  })

  test('strings are UTF-8 encoded, bytes kept as they are', () => {
    expect(toBin('é')).toBe('\xc3\xa9')
    expect(toBin(new Uint8Array([0, 255]))).toBe('\0\xff')
    expect([...fromBin(toBin('😀'))]).toEqual([...Buffer.from('😀', 'utf8')])
  })

  test('engine order is unsigned byte order, unlike JS string order', () => {
    // U+FF61 is EF BD A1 in UTF-8 and U+1F600 is F0 9F 98 80, so bytes put U+FF61 first; UTF-16 order does not.
    const words = ['\uff61', '😀', 'z', '\u00e9', 'a']
    const byEngine = [...words].sort((a, b) => (toBin(a) < toBin(b) ? -1 : toBin(a) > toBin(b) ? 1 : 0))
    const byBytes = [...words].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    expect(byEngine).toEqual(byBytes)
    expect([...words].sort()).not.toEqual(byBytes)
  })

  test('a value of the wrong type is a TypeError', () => {
    expect(() => toBin(42 as unknown as string)).toThrow(TypeError)
  })
})
