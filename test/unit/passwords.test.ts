import bcrypt from 'bcryptjs'
import { describe, expect, test } from 'vitest'
import { hashPassword, verifyPassword } from '../../src/auth/passwords.ts'

/** Passwords: etcdlite's own scrypt hashes, and the bcrypt hashes users bring from a real etcd's snapshot. */
describe('passwords', () => {
  test("an etcdlite hash verifies its password and no other", async () => {
    const stored = await hashPassword('s3cret')
    expect(await verifyPassword('s3cret', stored)).toBe(true)
    expect(await verifyPassword('s3cret ', stored)).toBe(false)
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
