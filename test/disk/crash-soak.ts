import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAndKill, verify } from './crash.ts'

/**
 * npm run crash-soak [-- kills]: the crash test at length. Kills the writer many times at random instants (both
 * durability modes), verifying the store after each, and prints the totals.
 */
const kills = Number(process.argv[2] ?? 200)
const dir = mkdtempSync(join(tmpdir(), 'etcdlite-soak-'))
let lastRev = 1
let acked = 0
const started = Date.now()
try {
  for (let k = 1; k <= kills; k++) {
    const acks = await runAndKill(dir, 20 + Math.floor(Math.random() * 600), k % 2 === 0 ? 'os' : 'fsync')
    acked += acks.length - 1
    lastRev = await verify(dir, acks, lastRev)
    if (k % 10 === 0) console.log(`${k} kills, ${acked} acknowledged writes verified, revision ${lastRev}`)
  }
  console.log(JSON.stringify({ kills, acknowledgedWrites: acked, finalRevision: lastRev, seconds: (Date.now() - started) / 1000, node: process.version }))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
