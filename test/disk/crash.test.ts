import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { runAndKill, verify } from './crash.ts'

/**
 * Crash safety: a writer killed with SIGKILL at random instants, many times over the same store, loses no
 * acknowledged write, never leaves half a txn, and never goes back in revision. `npm test` runs a CI-sized number of
 * kills; `npm run crash-soak` runs many more.
 */
const dir = mkdtempSync(join(tmpdir(), 'etcdlite-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const KILLS = Number(process.env.CRASH_KILLS ?? 6)

test(`a writer killed ${KILLS} times loses no acknowledged write`, async () => {
  let lastRev = 1
  let acked = 0
  for (let k = 0; k < KILLS; k++) {
    const acks = await runAndKill(dir, 50 + Math.floor(Math.random() * 400), k % 2 === 0 ? 'os' : 'fsync')
    acked += acks.length
    lastRev = await verify(dir, acks, lastRev)
  }
  expect(acked).toBeGreaterThan(KILLS)
}, 180_000)
