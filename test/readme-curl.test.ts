import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

/**
 * The README's curl examples are a contract too: each `curl` line of the HTTP section runs, in order, against
 * `npm start` with its defaults (127.0.0.1:2379), and prints what the `# ` lines under it show (`…` stands for the
 * cluster and member ids). A clone that already holds ./etcdlite-data keeps it: the server then gets a fresh
 * --data-dir instead, so the examples start from an empty store either way.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const section = readme.slice(readme.indexOf("## etcd's HTTP face"))
const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!

interface Example {
  readonly command: string
  readonly expected: string[]
}

const examples: Example[] = []
for (const line of block.split('\n')) {
  if (line.startsWith('curl ')) examples.push({ command: line, expected: [] })
  else if (line.startsWith('# ')) examples.at(-1)!.expected.push(line.slice(2))
}

const curl = spawnSync('curl', ['--version']).status === 0
if (!curl) console.log('README curl examples: skipped, curl is not installed')

/** pattern turns an expected line into a regular expression: `…` matches any run of digits. */
function pattern(line: string): RegExp {
  return new RegExp(`^${line.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\d+')}$`)
}

describe.skipIf(!curl)('README: the curl examples against npm start', () => {
  let server: ChildProcess
  let scratch: string | undefined
  const defaultDir = join(root, 'etcdlite-data')
  const ownsDefaultDir = !existsSync(defaultDir)

  beforeAll(async () => {
    const extra = ownsDefaultDir ? [] : ['--', '--data-dir', join((scratch = mkdtempSync(join(tmpdir(), 'etcdlite-readme-'))), 'data')]
    server = spawn('npm', ['start', '--silent', ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let output = ''
    server.stdout!.on('data', (d: Buffer) => (output += d.toString()))
    server.stderr!.on('data', (d: Buffer) => (output += d.toString()))
    const deadline = Date.now() + 30_000
    for (;;) {
      if (server.exitCode !== null) throw new Error(`npm start exited: ${output}`)
      try {
        if ((await fetch('http://127.0.0.1:2379/health')).ok) break
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`npm start did not answer on 127.0.0.1:2379: ${output}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }, 40_000)

  afterAll(async () => {
    if (server?.pid !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve))
      process.kill(-server.pid, 'SIGTERM')
      await exited
    }
    if (ownsDefaultDir) rmSync(defaultDir, { recursive: true, force: true })
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true })
  })

  test('the section has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8)
  })

  test.each(examples.map((e, i) => [i + 1, e] as const))('example %i prints what the README shows', (_i, example) => {
    const run = spawnSync('bash', ['-c', example.command], { encoding: 'utf8' })
    const lines = run.stdout.split('\n').filter((l) => l !== '')
    expect(lines.length, `${example.command}\n${run.stdout}`).toBe(example.expected.length)
    lines.forEach((line, i) => expect(line).toMatch(pattern(example.expected[i]!)))
  })
})
