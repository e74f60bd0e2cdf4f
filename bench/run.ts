import { benchDisk } from './disk.ts'
import { benchLease } from './lease.ts'
import { benchPut } from './put.ts'
import { benchWatch } from './watch.ts'
import { table, type Result } from './lib.ts'

/**
 * npm run bench [-- --quick] [case filter]: runs every benchmark case (or those whose name contains the filter),
 * prints one JSON line per result and then a table with each result's ratio to its baseline.
 */
const cases: Record<string, () => Promise<Result[]>> = {
  put: benchPut,
  disk: benchDisk,
  lease: benchLease,
  watch: benchWatch,
}

const filter = process.argv.slice(2).find((a) => !a.startsWith('--'))
const results: Result[] = []
for (const [name, run] of Object.entries(cases)) {
  if (filter !== undefined && !name.includes(filter)) continue
  results.push(...(await run()))
}
/** baselineOf names the row each result is compared with: the raw structure, or the writer without watchers. */
function baselineOf(r: Result): string | undefined {
  const peers = results.filter((x) => x.case === r.case && x !== r)
  return (peers.find((x) => x.system.includes('(raw)')) ?? peers.find((x) => x.system === 'no watchers'))?.system
}
table(results, baselineOf)
