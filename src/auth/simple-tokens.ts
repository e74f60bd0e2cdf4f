import { randomInt } from 'node:crypto'
import type { Clock } from '../util/clock.ts'

/**
 * SimpleTokens are etcd's default tokens: random, held only in memory, each valid for a user until it has gone
 * unused for the TTL (every use starts the TTL again). A token looks like etcd's, 16 random letters, a dot and a
 * sequence number. Tokens end when their user is deleted or changes password, and all of them when auth is turned off.
 * A restart forgets them all, so clients log in again.
 */

/** DEFAULT_TOKEN_TTL_SECONDS is etcd's --auth-token-ttl default. */
export const DEFAULT_TOKEN_TTL_SECONDS = 300

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

interface Entry {
  readonly user: string
  expiresAt: number
}

export class SimpleTokens {
  readonly #clock: Clock
  readonly #ttlMs: number
  readonly #tokens = new Map<string, Entry>()
  #index = 0

  constructor(clock: Clock, ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS) {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new RangeError('authTokenTtl must be a positive integer of seconds')
    this.#clock = clock
    this.#ttlMs = ttlSeconds * 1000
  }

  /** assign makes a new token for `user`. */
  assign(user: string): string {
    if (++this.#index % 1024 === 0) this.#sweep()
    let random = ''
    for (let i = 0; i < 16; i++) random += LETTERS[randomInt(LETTERS.length)]
    const token = `${random}.${this.#index}`
    this.#tokens.set(token, { user, expiresAt: this.#clock.now() + this.#ttlMs })
    return token
  }

  /** userOf returns the user a live token belongs to, and starts its TTL again; undefined for an unknown or stale one. */
  userOf(token: string): string | undefined {
    const entry = this.#tokens.get(token)
    if (entry === undefined) return undefined
    const now = this.#clock.now()
    if (entry.expiresAt <= now) {
      this.#tokens.delete(token)
      return undefined
    }
    entry.expiresAt = now + this.#ttlMs
    return entry.user
  }

  /** invalidateUser ends every token of `user`. */
  invalidateUser(user: string): void {
    for (const [token, entry] of this.#tokens) if (entry.user === user) this.#tokens.delete(token)
  }

  /** clear ends every token. */
  clear(): void {
    this.#tokens.clear()
  }

  /** #sweep forgets expired tokens, so tokens nobody uses again do not pile up. */
  #sweep(): void {
    const now = this.#clock.now()
    for (const [token, entry] of this.#tokens) if (entry.expiresAt <= now) this.#tokens.delete(token)
  }
}
