import { scrypt, timingSafeEqual } from 'node:crypto'
import bcrypt from 'bcryptjs'

/**
 * Passwords are kept as bcrypt hashes, as etcd keeps them (cost 10, etcd's default), never in clear: a snapshot
 * carries them to a real etcd, whose users then sign in with the same passwords, and users brought in from a real
 * etcd's snapshot sign in here. A bcrypt hash is stored with an empty salt (see etcd-snapshot/messages.ts).
 * Data directories written before held salted scrypt hashes (a salt present); those still verify.
 */
/** PasswordHash is what is stored for a user with a password. */
export interface PasswordHash {
  /** salt, base64, of an scrypt hash; '' for a bcrypt hash (whose salt is inside it). */
  readonly salt: string
  /** hash, base64: scrypt(password, salt), or the bcrypt hash's text. */
  readonly hash: string
}

/** BCRYPT_COST: etcd's default --bcrypt-cost. */
const BCRYPT_COST = 10

const KEY_BYTES = 32
const COST = { N: 16384, r: 8, p: 1 }

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, COST, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

/** hashPassword hashes a password with bcrypt, as etcd does. */
export async function hashPassword(password: string): Promise<PasswordHash> {
  const hash = await bcrypt.hash(password, BCRYPT_COST)
  return { salt: '', hash: Buffer.from(hash, 'latin1').toString('base64') }
}

/** BCRYPT_HASH: the form of a bcrypt hash as etcd stores it ("$2a$10$" and 53 more characters). */
const BCRYPT_HASH = /^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$/

/** verifyPassword tells whether `password` is the one `stored` was made from (bcrypt's check, or scrypt's in constant time). */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  if (stored.salt === '') {
    // A bcrypt hash (ours, or etcd's), or a foreign hash no password matches.
    const foreign = Buffer.from(stored.hash, 'base64').toString('latin1')
    return BCRYPT_HASH.test(foreign) && (await bcrypt.compare(password, foreign))
  }
  const expected = Buffer.from(stored.hash, 'base64')
  const key = await derive(password, Buffer.from(stored.salt, 'base64'))
  return key.length === expected.length && timingSafeEqual(key, expected)
}
