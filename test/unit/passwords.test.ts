import { randomBytes, scryptSync } from 'node:crypto'
import bcrypt from 'bcryptjs'
import { describe, expect, test } from 'vitest'
import { hashPassword, verifyPassword } from '../../src/auth/passwords.ts'

/** Passwords: bcrypt hashes as etcd writes them, and the scrypt hashes earlier etcdlite data directories hold. */
describe('passwords', () => {
  test('a new hash is bcrypt, as etcd writes one, and verifies its password and no other', async () => {
    const stored = await hashPassword('s3cret')
    expect(stored.salt).toBe('')
    expect(Buffer.from(stored.hash, 'base64').toString('latin1')).toMatch(/^\$2[aby]\$10\$/)
    expect(await verifyPassword('s3cret', stored)).toBe(true)
    expect(await verifyPassword('s3cret ', stored)).toBe(false)
  })

  test('a salted scrypt hash of an earlier data directory still verifies its password and no other', async () => {
    const salt = randomBytes(16)
    const key = scryptSync('old-password', salt, 32, { N: 16384, r: 8, p: 1 })
    const stored = { salt: salt.toString('base64'), hash: key.toString('base64') }
    expect(await verifyPassword('old-password', stored)).toBe(true)
    expect(await verifyPassword('old-passwor', stored)).toBe(false)
  })

  test("etcd's bcrypt hash (kept with an empty salt) verifies the user's etcd password and no other", async () => {
    const fromEtcd = { salt: '', hash: Buffer.from(await bcrypt.hash('etcd-password', 4), 'latin1').toString('base64') }
    expect(await verifyPassword('etcd-password', fromEtcd)).toBe(true)
    expect(await verifyPassword('etcd-passwor', fromEtcd)).toBe(false)
    expect(await verifyPassword('', fromEtcd)).toBe(false)
  })

  test('a foreign hash that is not bcrypt lets no password in', async () => {
    const unknown = { salt: '', hash: Buffer.from('sha256:abcdef', 'latin1').toString('base64') }
    expect(await verifyPassword('sha256:abcdef', unknown)).toBe(false)
    expect(await verifyPassword('', unknown)).toBe(false)
  })
})
