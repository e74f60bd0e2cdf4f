import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

/**
 * The published typings (`npm run build`'s .d.ts files): internals marked @internal are stripped (stripInternal in
 * tsconfig.build.json), and what remains type-checks for a consumer of `etcdlite` and `etcdlite/testing` with
 * library checking on.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const tsc = join(root, 'node_modules', '.bin', 'tsc')
let out: string

beforeAll(() => {
  // Inside the checkout (.scratch/ is ignored by git), so the typings resolve their dependencies from node_modules.
  mkdirSync(join(root, '.scratch'), { recursive: true })
  out = mkdtempSync(join(root, '.scratch', 'types-'))
  const r = spawnSync(tsc, ['-p', join(root, 'tsconfig.build.json'), '--emitDeclarationOnly', '--outDir', join(out, 'dist')], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`the declaration build failed:\n${r.stdout}${r.stderr}`)
}, 120_000)
afterAll(() => rmSync(out, { recursive: true, force: true }))

describe('published typings', () => {
  test("serve()'s options do not show the testing kit's internal tap", () => {
    const serve = readFileSync(join(out, 'dist', 'server', 'serve.d.ts'), 'utf8')
    expect(serve).toContain('listenUrls?: string[]')
    expect(serve).not.toMatch(/\btap\?:/)
    expect(serve).not.toContain('ServerTap')
  })

  test("the fault rules' internal matching is not in the testing kit's typings", () => {
    const faults = readFileSync(join(out, 'dist', 'testing', 'faults.d.ts'), 'utf8')
    expect(faults).toContain('add(rule: FaultRule): FaultHandle')
    expect(faults).not.toContain('take(')
    expect(faults).not.toContain('onAdd(')
  })

  test('a consumer of etcdlite and etcdlite/testing type-checks against them, with library checks on', () => {
    const dist = join(out, 'dist')
    const consumer = join(out, 'consumer.ts')
    writeFileSync(
      consumer,
      `import { open, serve, type Engine, type ServeOptions } from ${JSON.stringify(join(dist, 'index.js'))}
import { fakeEtcd, type FakeEtcd, type FakeTls, type FaultRule } from ${JSON.stringify(join(dist, 'testing', 'index.js'))}
const options: ServeOptions = { port: 0, listenUrls: ['http://127.0.0.1:0'] }
// @ts-expect-error the tap is internal to etcdlite
const internal: ServeOptions = { tap: {} }
const rule: FaultRule = { method: 'KV.Put', fault: 'unavailable', times: 1 }
export async function use(): Promise<[Engine, FakeEtcd, FakeTls | undefined]> {
  const engine = await open()
  const fake = await fakeEtcd({ tls: { clientCertAuth: true } })
  fake.faults.add(rule)
  void serve(options)
  void internal
  return [engine, fake, fake.tls]
}
`,
    )
    const r = spawnSync(
      tsc,
      ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,esnext.disposable', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), consumer],
      { encoding: 'utf8', cwd: root },
    )
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  }, 60_000)
})
