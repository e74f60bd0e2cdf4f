import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import bcrypt from 'bcryptjs'

/**
 * Passwords are kept as salted scrypt hashes (node:crypto), never in clear, and compared in constant time. etcd uses
 * bcrypt; the stored form is etcdlite's own, so the cost is set to take a few tens of milliseconds, as bcrypt's does.
 * A user brought in from a real etcd snapshot keeps etcd's bcrypt hash (an empty salt marks a foreign hash, see
 * etcd-snapshot/messages.ts): it verifies as bcrypt, so that user signs in with the password they had in etcd, and the
 * hash goes back out unchanged into later snapshots.
 */

/** PasswordHash is what is stored for a user with a password. */
export interface PasswordHash {
  /** salt, base64. */
  readonly salt: string
  /** hash, base64: scrypt(password, salt). */
  readonly hash: string
}

const KEY_BYTES = 32
const COST = { N: 16384, r: 8, p: 1 }

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, COST, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

/** hashPassword salts and hashes a password. */
export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16)
  const key = await derive(password, salt)
  return { salt: salt.toString('base64'), hash: key.toString('base64') }
}

/** BCRYPT_HASH: the form of a bcrypt hash as etcd stores it ("$2a$10$" and 53 more characters). */
const BCRYPT_HASH = /^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$/

/** verifyPassword tells whether `password` is the one `stored` was made from, in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  if (stored.salt === '') {
    // A foreign hash: etcd's bcrypt, or something no password matches.
    const foreign = Buffer.from(stored.hash, 'base64').toString('latin1')
    return BCRYPT_HASH.test(foreign) && (await bcrypt.compare(password, foreign))
  }
  const expected = Buffer.from(stored.hash, 'base64')
  const key = await derive(password, Buffer.from(stored.salt, 'base64'))
  return key.length === expected.length && timingSafeEqual(key, expected)
}
