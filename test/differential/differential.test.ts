import { describe, expect, test } from 'vitest'
import { etcdBinary, startEtcd } from '../support/real-etcd.ts'
import {
  CREATE_AFTER_DELETE_PREV_KV,
  formatMismatch,
  onFreshSides,
  runDifferential,
  runScript,
  SAME_REVISION_PREV_KV,
} from './differential.ts'

/**
 * The CI-sized differential run: random request sequences in lockstep on the engine and a fresh real etcd 3.4, every
 * response and watch stream compared (see differential.ts). DIFFERENTIAL_SEQUENCES / _STEPS / _SEED override the
 * size and the seed; the long run is `npm run differential-soak`.
 */

const SEQUENCES = Number(process.env.DIFFERENTIAL_SEQUENCES ?? 25)
const STEPS = Number(process.env.DIFFERENTIAL_STEPS ?? 40)
const SEED = Number(process.env.DIFFERENTIAL_SEED ?? 20_240_607)
/** WIRE_SEQUENCES: sequences of the wire variant (a served etcdlite and etcd, present-empty encodings to both). */
const WIRE_SEQUENCES = Number(process.env.DIFFERENTIAL_WIRE_SEQUENCES ?? 10)
const binary = etcdBinary()

if (binary === undefined) {
  console.log('differential (etcd): skipped, no etcd 3.4 binary is installed (apt-get install etcd-server)')
}

describe.skipIf(binary === undefined)('differential: engine against real etcd', () => {
  test(`${SEQUENCES} random sequences of ${STEPS} requests answer as etcd does`, async () => {
    const summary = await runDifferential({ sequences: SEQUENCES, steps: STEPS, seed: SEED, binary: binary! })
    const m = summary.mismatches[0]
    if (m !== undefined) expect.fail(formatMismatch(m, STEPS))
    expect(summary.completed).toBe(SEQUENCES)
  }, 110_000)

  test(`${WIRE_SEQUENCES} random sequences over the wire, empty fields sent present and empty, answer as etcd does`, async () => {
    const summary = await runDifferential({ sequences: WIRE_SEQUENCES, steps: STEPS, seed: SEED + 7_000, binary: binary!, wire: true })
    const m = summary.mismatches[0]
    if (m !== undefined) expect.fail(formatMismatch(m, STEPS))
    expect(summary.completed).toBe(WIRE_SEQUENCES)
  }, 110_000)

  // Directed cases: a key written twice in one txn (etcd's "from key" quirk), where the random runs found two
  // differences in watch prevKvs (both fixed).
  test.each([
    ['put then deleted: prevKv is the version before the txn', SAME_REVISION_PREV_KV],
    ['deleted then put again: the create event has no prevKv', CREATE_AFTER_DELETE_PREV_KV],
  ])('a key written twice in one txn, %s, as in etcd', async (_name, script) => {
    const result = await onFreshSides(await startEtcd(binary), (sides) => runScript(script, sides))
    if (result.mismatch) expect.fail(formatMismatch(result.mismatch))
  }, 30_000)
})
