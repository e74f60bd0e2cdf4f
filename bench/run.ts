import { benchPut } from './put.ts'
import { table, type Result } from './lib.ts'

/**
 * npm run bench [-- --quick] [case filter]: runs every benchmark case (or those whose name contains the filter),
 * prints one JSON line per result and then a table with each result's ratio to its baseline.
 */
const cases: Record<string, () => Promise<Result[]>> = {
  put: benchPut,
}

const filter = process.argv.slice(2).find((a) => !a.startsWith('--'))
const results: Result[] = []
for (const [name, run] of Object.entries(cases)) {
  if (filter !== undefined && !name.includes(filter)) continue
  results.push(...(await run()))
}
table(results, (r) => (r.system.includes('(raw)') ? undefined : results.find((x) => x.case === r.case && x.system.includes('(raw)'))?.system))
