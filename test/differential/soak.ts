import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { etcdBinary } from '../support/real-etcd.ts'
import { ETCD_BUGS, formatMismatch, runDifferential, show } from './differential.ts'

/**
 * The long run of the differential test: `node --import tsx test/differential/soak.ts [sequences] [steps] [seed]`
 * (npm run differential-soak -- 300 60). Sequence i runs from seed + i; a mismatch prints its seed, so
 * `soak.ts 1 <steps> <seed>` replays it alone. DIFFERENTIAL_STOP_AFTER (default 20) stops the run after that many
 * differing sequences. Prints progress, every mismatch, and a final JSON summary; the full
 * step history of each mismatch goes to a file in the temp directory. Exits 1 on a mismatch, 2 without etcd.
 * DIFFERENTIAL_WIRE=1 runs the wire variant: a served etcdlite against etcd, empty fields sent present and empty.
 */

const [sequences = 300, steps = 60, seed = Date.now() % 2 ** 32] = process.argv.slice(2).map(Number)
const binary = etcdBinary()
if (binary === undefined) {
  console.log('differential soak: no etcd 3.4 binary is installed (apt-get install etcd-server)')
  process.exit(2)
}
const stopAfter = Number(process.env.DIFFERENTIAL_STOP_AFTER ?? 20)
console.log(
  `differential soak: ${sequences} sequences x ${steps} steps from seed ${seed}` +
    `\n  avoiding etcd bugs: ${Object.values(ETCD_BUGS).join('; ')}`,
)
// Ctrl-C ends the run after the current sequence, so every etcd it started is stopped and its directory removed.
const interrupted = new AbortController()
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.log(`\n${sig}: stopping after the current sequence`)
    interrupted.abort()
  })
}
const summary = await runDifferential({
  sequences,
  steps,
  seed,
  binary,
  stopAfter,
  wire: process.env.DIFFERENTIAL_WIRE === '1',
  signal: interrupted.signal,
  onSequence: (done, result, ms) => {
    if (result.mismatch) console.log(`\n${formatMismatch(result.mismatch, steps)}\n`)
    if (done % 10 === 0 || done === sequences || result.mismatch) {
      console.log(`  ${done}/${sequences} sequences, ${(ms / 1000).toFixed(1)} s${result.mismatch ? `, mismatch at seed ${result.seed}` : ''}`)
    }
  },
})
let historyFile: string | undefined
if (summary.mismatches.length > 0) {
  historyFile = join(tmpdir(), `etcdlite-differential-${seed}.json`)
  writeFileSync(historyFile, show(summary.mismatches, 1))
}
console.log(
  show(
    {
      ...summary,
      mismatches: summary.mismatches.map((m) => ({ seed: m.seed, index: m.index, op: m.step.op, where: m.where })),
      historyFile,
    },
    2,
  ),
)
process.exit(summary.mismatches.length > 0 ? 1 : 0)
