import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * bench/subject: the etcdlite under test. By default the compiled build in dist/ (what users run from npm; the bench
 * script builds it first); with --src, the TypeScript sources through tsx. tsx (esbuild, keepNames) wraps every named
 * closure in a `__name()` call, which runs each time the closure is created; the put case measures both builds side
 * by side so that cost stays visible. A dist/ older than any source file is refused rather than measured.
 */
type Etcdlite = typeof import('../src/index.ts')

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** build names the build under test, for result rows: 'dist' or 'src (tsx)'. */
export const build: 'dist' | 'src (tsx)' = process.argv.includes('--src') ? 'src (tsx)' : 'dist'

/** distIsFresh says whether dist/ exists and is at least as new as every file under src/. */
export function distIsFresh(): boolean {
  const entry = join(root, 'dist', 'index.js')
  if (!existsSync(entry)) return false
  const built = statSync(entry).mtimeMs
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0,
      ),
    )
  return newest(join(root, 'src')) <= built + 1
}

/**
 * DIST_CHECKED is set for child processes of a run (the memory case) once the run's own check passed: sources edited
 * while a run goes on must not fail it halfway.
 */
const DIST_CHECKED = 'ETCDLITE_BENCH_DIST_CHECKED'

async function load(which: 'dist' | 'src (tsx)'): Promise<Etcdlite> {
  if (which === 'src (tsx)') return import('../src/index.ts')
  if (process.env[DIST_CHECKED] !== '1' && !distIsFresh()) {
    throw new Error('dist/ is missing or older than src/: run `npm run build` (or bench with --src)')
  }
  process.env[DIST_CHECKED] = '1'
  // A computed specifier: dist/ is a build output that type checking must not depend on.
  const spec = '../dist/index.js'
  return (await import(spec)) as Etcdlite
}

/** etcdlite is the module under test. */
export const etcdlite: Etcdlite = await load(build)

/** otherBuild loads the build not under test (for the side-by-side rows), or undefined when it cannot be had. */
export async function otherBuild(): Promise<{ name: string; module: Etcdlite } | undefined> {
  if (build === 'dist') return { name: 'src (tsx)', module: await load('src (tsx)') }
  return distIsFresh() ? { name: 'dist', module: await load('dist') } : undefined
}

export const open: Etcdlite['open'] = etcdlite.open

type Testing = typeof import('../src/testing/index.ts')

/** testing is etcdlite/testing of the same build (dist/testing or the sources), loaded on first use. */
export async function testing(): Promise<Testing> {
  if (build === 'src (tsx)') return import('../src/testing/index.ts')
  const spec = '../dist/testing/index.js'
  return (await import(spec)) as Testing
}
export type { Engine, Durability } from '../src/index.ts'
