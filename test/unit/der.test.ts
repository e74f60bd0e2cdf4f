import { describe, expect, test } from 'vitest'
import * as der from '../../src/util/der.ts'

/** DER encodings checked against values worked out from X.690 (and what openssl writes for the same fields). */
const hex = (b: Buffer) => b.toString('hex')

describe('der', () => {
  test('object identifiers: first two arcs in one byte, larger arcs in base-128 groups', () => {
    expect(hex(der.objectIdentifier('2.5.4.3'))).toBe('0603550403')
    expect(hex(der.objectIdentifier('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302')
    expect(hex(der.objectIdentifier('1.3.6.1.5.5.7.3.1'))).toBe('06082b06010505070301')
  })

  test('lengths use the short form below 128 bytes and the long form above', () => {
    expect(hex(der.octetString(Buffer.alloc(127)).subarray(0, 2))).toBe('047f')
    expect(hex(der.octetString(Buffer.alloc(128)).subarray(0, 3))).toBe('048180')
    expect(hex(der.octetString(Buffer.alloc(300)).subarray(0, 4))).toBe('0482012c')
  })

  test('integers drop leading zeros and keep a zero before a set top bit', () => {
    expect(hex(der.unsignedInteger(Buffer.from([0, 0, 0x7f])))).toBe('02017f')
    expect(hex(der.unsignedInteger(Buffer.from([0x80])))).toBe('02020080')
    expect(hex(der.unsignedInteger(Buffer.from([0, 0])))).toBe('020100')
    expect(hex(der.smallInteger(2))).toBe('020102')
    expect(() => der.smallInteger(-1)).toThrow(RangeError)
  })

  test('bit strings count the unused bits of the last byte', () => {
    expect(hex(der.bitString(Buffer.from([0x86]), 7))).toBe('03020186')
    expect(hex(der.bitString(Buffer.from([0x80]), 1))).toBe('03020780')
    expect(() => der.bitString(Buffer.from([0x80]), 0)).toThrow(RangeError)
  })

  test('UTCTime holds 1950 to 2049 as YYMMDDHHMMSSZ', () => {
    expect(der.utcTime(new Date(Date.UTC(2026, 11, 2, 9, 5, 7))).subarray(2).toString('latin1')).toBe('261202090507Z')
    expect(() => der.utcTime(new Date(Date.UTC(2050, 0, 1)))).toThrow(RangeError)
  })

  test('constructed and tagged elements wrap their parts', () => {
    expect(hex(der.sequence(der.boolean(true)))).toBe('30030101ff')
    expect(hex(der.explicit(0, der.smallInteger(2)))).toBe('a003020102')
    expect(hex(der.implicit(7, Buffer.from([127, 0, 0, 1])))).toBe('87047f000001')
    expect(hex(der.set(der.utf8String('a')))).toBe('31030c0161')
    expect(() => der.objectIdentifier('2')).toThrow(TypeError)
  })
})
