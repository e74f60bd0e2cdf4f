import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'

/**
 * The Go example (test/go): a Go test that starts `etcdlite serve --fault-control`, injects faults over HTTP and
 * checks them with Go's clientv3 (rpctypes.ErrNoLeader, ErrTimeout, ErrCompacted, ErrPermissionDenied, a compacted
 * watch, a dead member). Built offline in GOPATH mode against Debian's golang-etcd-server-dev, which `.ci/run`
 * installs with golang-go; skipped, with the reason, where either is missing.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** GOCODE: where Debian's golang-*-dev packages put their sources (a GOPATH). */
const GOCODE = '/usr/share/gocode'

function goMissing(): string | undefined {
  if (spawnSync('go', ['version']).status !== 0) return 'go is not installed (golang-go)'
  if (!existsSync(join(GOCODE, 'src', 'go.etcd.io', 'etcd', 'clientv3'))) return `etcd's Go sources are not in ${GOCODE} (golang-etcd-server-dev)`
  return undefined
}
const missing = goMissing()
if (missing !== undefined) console.log(`skipping the Go example: ${missing}`)

describe.skipIf(missing !== undefined)('the Go example', () => {
  test(
    'Go clientv3 sees each fault injected through the HTTP fault control as the real error',
    async () => {
      const gopath = [process.env.GOPATH, GOCODE].filter((p) => p !== undefined && p !== '').join(delimiter)
      const run = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const child = spawn('go', ['test', '-count=1', '-v', './test/go/'], {
          cwd: root,
          env: { ...process.env, GO111MODULE: 'off', GOPATH: gopath, GOFLAGS: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let output = ''
        child.stdout.on('data', (d: Buffer) => (output += d.toString()))
        child.stderr.on('data', (d: Buffer) => (output += d.toString()))
        child.on('error', reject)
        child.on('close', (code) => resolve({ code, output }))
      })
      if (run.code !== 0) throw new Error(`go test failed:\n${run.output}`)
      for (const name of ['TestFaultsSeenByClientv3', 'TestCompactedWatch', 'TestDeadMember', 'TestBadRuleIsRefused']) {
        expect(run.output).toContain(`--- PASS: ${name}`)
      }
      expect(run.output).not.toContain('--- FAIL')
    },
    // The first build of clientv3 takes about half a minute on two cores; later runs use Go's build cache.
    240_000,
  )
})
