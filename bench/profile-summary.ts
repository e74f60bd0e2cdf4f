import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

/**
 * bench/profile-summary: summarises a V8 .cpuprofile (from `node --cpu-prof`) by self time, per function and per
 * file, so a missed target can be explained in a few lines.
 *
 *   node --cpu-prof --cpu-prof-dir=bench/out --expose-gc --import tsx bench/run.ts put --quick
 *   node --import tsx bench/profile-summary.ts bench/out/CPU.*.cpuprofile [--top 25] [--filter src/]
 */

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** SelfTime is one function's or file's share of the samples. */
export interface SelfTime {
  name: string
  ms: number
  percent: number
}

/** summarise returns the top functions and files by self time. */
export function summarise(profile: CpuProfile, top = 25): { total: number; functions: SelfTime[]; files: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  let total = 0
  const fns = new Map<string, number>()
  const files = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame
    total += us
    const file = shortUrl(frame.url) || `(${frame.functionName || 'native'})`
    const fn = `${frame.functionName || '(anonymous)'} ${file}${frame.url ? `:${frame.lineNumber + 1}` : ''}`
    fns.set(fn, (fns.get(fn) ?? 0) + us)
    files.set(file, (files.get(file) ?? 0) + us)
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, percent: Math.round((us / total) * 1000) / 10 }))
  return { total: total / 1000, functions: rank(fns), files: rank(files) }
}

function shortUrl(url: string): string {
  if (!url) return ''
  const path = url.startsWith('file://') ? new URL(url).pathname : url
  return path.startsWith('/') ? relative(process.cwd(), path) : path
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.on('error', () => process.exit(0)) // piped into head
  const args = process.argv.slice(2)
  const topAt = args.indexOf('--top')
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25
  const files = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1))
  for (const file of files) {
    const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top)
    const idle = s.functions.find((f) => f.name.startsWith('(idle)'))
    if (idle && idle.percent > 90) {
      // tsx's module loader runs on its own thread and writes a profile of its own, nearly all idle.
      console.log(`${file}: ${Math.round(s.total)} ms sampled, ${idle.percent}% idle (a loader or worker thread); skipped`)
      continue
    }
    console.log(`${file}: ${Math.round(s.total)} ms sampled`)
    console.log('\n  self time by function')
    for (const f of s.functions) console.log(`  ${f.percent.toFixed(1).padStart(5)}%  ${String(f.ms).padStart(8)} ms  ${f.name}`)
    console.log('\n  self time by file')
    for (const f of s.files) console.log(`  ${f.percent.toFixed(1).padStart(5)}%  ${String(f.ms).padStart(8)} ms  ${f.name}`)
  }
}
