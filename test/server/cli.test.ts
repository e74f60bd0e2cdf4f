import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test } from 'vitest'
import { duration, parseServeArgs, UsageError } from '../../src/cli/flags.ts'
import { main } from '../../src/cli/main.ts'
import { Client } from '../../src/api/client.ts'
import { remoteServices } from '../../src/remote/remote-services.ts'
import { etcdctl, etcdctlMissing, Lines } from './helpers.ts'

/** `etcdlite serve`: etcd's flags and ETCD_* variables, where it listens, graceful shutdown, clear refusals. */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

describe('flags', () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => parseServeArgs(argv, env)

  test("defaults: etcd's, on 127.0.0.1:2379, data in ./etcdlite-data with fsync", () => {
    const { config } = parse([])
    expect(config).toMatchObject({
      name: 'default',
      dataDir: 'etcdlite-data',
      listenClientUrls: ['http://127.0.0.1:2379'],
      advertiseClientUrls: undefined,
      clientCertAuth: false,
      maxTxnOps: 128,
      maxRequestBytes: 1_572_864,
      durability: 'fsync',
      autoCompaction: undefined,
      authTokenTtl: 300,
    })
  })

  test('the forms of Go flags: -flag, --flag=value, --flag value, booleans', () => {
    const { config } = parse([
      '-name', 'n1', '--data-dir=/d', '--listen-client-urls', 'http://127.0.0.1:1,https://0.0.0.0:2',
      '--cert-file=c', '--key-file', 'k', '--trusted-ca-file=ca', '--client-cert-auth', '--max-txn-ops=16',
    ])
    expect(config).toMatchObject({
      name: 'n1',
      dataDir: '/d',
      listenClientUrls: ['http://127.0.0.1:1', 'https://0.0.0.0:2'],
      certFile: 'c',
      keyFile: 'k',
      trustedCaFile: 'ca',
      clientCertAuth: true,
      maxTxnOps: 16,
    })
    expect(parse(['--client-cert-auth=false']).config.clientCertAuth).toBe(false)
  })

  test('ETCD_* variables, shadowed by command-line flags', () => {
    const env = { ETCD_NAME: 'from-env', ETCD_DATA_DIR: '/env', ETCD_CLIENT_CERT_AUTH: 'true', ETCD_TRUSTED_CA_FILE: 'ca' }
    const r = parse(['--data-dir', '/flag'], env)
    expect(r.config).toMatchObject({ name: 'from-env', dataDir: '/flag', clientCertAuth: true })
    expect(r.shadowed).toEqual(['ETCD_DATA_DIR'])
  })

  test('etcd flags that do not apply are accepted and reported; unknown flags are refused', () => {
    const r = parse(['--initial-cluster', 'a=http://x:2380', '--enable-v2', '--name', 'x', '--log-level=debug'])
    expect(r.ignored).toEqual(['initial-cluster', 'enable-v2', 'log-level'])
    expect(r.config.name).toBe('x')
    expect(() => parse(['--bogus'])).toThrow(new UsageError('flag provided but not defined: -bogus'))
    expect(() => parse(['--name'])).toThrow('flag needs an argument: -name')
    expect(() => parse(['stray'])).toThrow(UsageError)
  })

  test('auto-compaction: periodic durations or hours, revision counts, 0 is off', () => {
    const ac = (mode: string, retention: string) => parse([`--auto-compaction-mode=${mode}`, `--auto-compaction-retention=${retention}`]).config.autoCompaction
    expect(ac('periodic', '1h')).toEqual({ mode: 'periodic', retentionMs: 3_600_000 })
    expect(ac('periodic', '5')).toEqual({ mode: 'periodic', retentionMs: 5 * 3_600_000 })
    expect(ac('periodic', '1h30m')).toEqual({ mode: 'periodic', retentionMs: 5_400_000 })
    expect(ac('periodic', '0')).toBeUndefined()
    expect(ac('revision', '1000')).toEqual({ mode: 'revision', retention: 1000 })
    expect(ac('revision', '0')).toBeUndefined()
    expect(() => ac('revision', '1h')).toThrow(UsageError)
    expect(() => ac('periodic', 'soon')).toThrow(UsageError)
    expect(() => ac('daily', '1')).toThrow(UsageError)
  })

  test('Go durations', () => {
    expect(duration('90s')).toBe(90_000)
    expect(duration('1.5h')).toBe(5_400_000)
    expect(duration('100ms')).toBe(100)
    expect(duration('2h45m10s')).toBe(9_910_000)
    expect(duration('')).toBeUndefined()
    expect(duration('5 m')).toBeUndefined()
  })

  test('inconsistent TLS flags are refused', () => {
    expect(() => parse(['--client-cert-auth'])).toThrow('--client-cert-auth needs --trusted-ca-file')
    expect(() => parse(['--cert-file=c'])).toThrow('--cert-file and --key-file go together')
    expect(() => parse(['--listen-client-urls=https://127.0.0.1:1'])).toThrow('needs --cert-file')
    expect(() => parse(['--listen-client-urls=127.0.0.1:2379'])).toThrow('is not an http(s)://host:port URL')
  })

  test("--auth-token: etcd's simple tokens only; --auth-token-ttl in seconds, 0 meaning etcd's default", () => {
    expect(parse(['--auth-token=simple', '--auth-token-ttl', '5']).config.authTokenTtl).toBe(5)
    expect(parse(['--auth-token-ttl=0']).config.authTokenTtl).toBe(300)
    // etcd accepts options after the type (key=value, each once) and ignores them for simple tokens.
    expect(parse(['--auth-token=simple,ttl=5m']).config.authTokenTtl).toBe(300)
    const fromEnv = parse(['--auth-token-ttl=9'], { ETCD_AUTH_TOKEN: 'simple', ETCD_AUTH_TOKEN_TTL: '7' })
    expect(fromEnv.config.authTokenTtl).toBe(9)
    expect(fromEnv.shadowed).toEqual(['ETCD_AUTH_TOKEN_TTL'])
    expect(parse([], { ETCD_AUTH_TOKEN_TTL: '7' }).config.authTokenTtl).toBe(7)

    const jwt = 'etcdlite has no JWT tokens'
    expect(() => parse(['--auth-token=jwt,pub-key=app.rsa.pub,priv-key=app.rsa,sign-method=RS512,ttl=10m'])).toThrow(jwt)
    expect(() => parse(['--auth-token', 'jwt'])).toThrow(jwt)
    expect(() => parse([], { ETCD_AUTH_TOKEN: 'jwt,sign-method=RS256' })).toThrow(jwt)
    expect(() => parse(['--auth-token=bogus'])).toThrow('--auth-token: unknown token type "bogus"')
    expect(() => parse(['--auth-token=SIMPLE'])).toThrow('unknown token type')
    expect(() => parse(['--auth-token='])).toThrow('an empty token type')
    expect(() => parse(['--auth-token=simple,foo'])).toThrow('--auth-token: invalid token option "foo"')
    expect(() => parse(['--auth-token=simple,a=1=2'])).toThrow('invalid token option')
    expect(() => parse(['--auth-token=simple,a=1,a=2'])).toThrow('option "a" is given twice')
    for (const bad of ['-1', '1.5', '5s', 'abc', '']) {
      expect(() => parse([`--auth-token-ttl=${bad}`])).toThrow(new UsageError(`invalid value ${JSON.stringify(bad)} for -auth-token-ttl: a whole number of seconds`))
    }
  })

  test('--in-memory keeps no data directory', () => {
    expect(parse(['--in-memory', '--data-dir=/x']).config).toMatchObject({ dataDir: undefined, durability: undefined })
  })
})

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

interface Cli {
  child: ChildProcess
  lines: Lines
  stderr: () => string
  exited: Promise<number | null>
}

function cli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return { child, lines: new Lines(child), stderr: () => stderr, exited }
}

/** untilServing reads the CLI's lines up to "serving client requests on URL" and returns them. */
async function untilServing(c: Cli): Promise<string[]> {
  const seen: string[] = []
  for (;;) {
    const line = await c.lines.next(15_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; stdout: ${seen.join('\n')}; stderr: ${c.stderr()}`)
    })
    seen.push(line)
    if (line.startsWith('etcdlite: serving client requests on')) return seen
  }
}

describe('etcdlite serve', () => {
  const dirs: string[] = []
  const children: ChildProcess[] = []
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'etcdlite-cli-'))
    dirs.push(d)
    return d
  }
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  test('prints where it listens, serves, stops on SIGTERM, and keeps the data for the next start', async () => {
    const dir = join(tmp(), 'data')
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const first = cli(['serve', `--data-dir=${dir}`, `--listen-client-urls=${url}`, '--name=cli-test'])
    children.push(first.child)
    const banner = await untilServing(first)
    expect(banner).toContain(`etcdlite: data in ${dir} (durability fsync), at revision 1`)
    expect(banner.at(-1)).toBe(`etcdlite: serving client requests on ${url}`)

    const services = remoteServices(`127.0.0.1:${port}`)
    const etcd = new Client(services)
    await etcd.put('kept', 'yes')
    expect((await etcd.services.cluster.memberList({})).members[0]).toMatchObject({ name: 'cli-test', clientURLs: [url] })
    services.close()

    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(await first.lines.take(2)).toEqual([
      'etcdlite: SIGTERM: shutting down (finishing calls in flight, closing the store)',
      'etcdlite: stopped',
    ])

    const second = cli(['serve', `--data-dir=${dir}`, `--listen-client-urls=${url}`])
    children.push(second.child)
    expect(await untilServing(second)).toContain(`etcdlite: data in ${dir} (durability fsync), at revision 2`)
    const again = remoteServices(`127.0.0.1:${port}`)
    expect((await again.kv.range({ key: 'kept' })).kvs[0]!.value.toString()).toBe('yes')
    again.close()
    second.child.kill('SIGINT')
    expect(await second.exited).toBe(0)
  }, 40_000)

  test('ETCD_* variables configure it, as they configure etcd', async () => {
    const port = await freePort()
    const c = cli(['serve'], {
      ETCD_LISTEN_CLIENT_URLS: `http://127.0.0.1:${port}`,
      ETCD_NAME: 'env-member',
      ETCD_DATA_DIR: join(tmp(), 'data'),
      ETCD_MAX_TXN_OPS: '2',
    })
    children.push(c.child)
    await untilServing(c)
    const services = remoteServices(`127.0.0.1:${port}`)
    try {
      expect((await services.cluster.memberList({})).members[0]!.name).toBe('env-member')
      const put = (k: string) => ({ requestPut: { key: k, value: 'v' } })
      await services.kv.txn({ success: [put('a'), put('b')] })
      await expect(services.kv.txn({ success: [put('a'), put('b'), put('c')] })).rejects.toMatchObject({ code: 'ETCD_TOO_MANY_OPS' })
    } finally {
      services.close()
      c.child.kill('SIGTERM')
      await c.exited
    }
  }, 40_000)

  test('a port in use is refused in one line, before the data directory is touched', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()))
    const port = (blocker.address() as { port: number }).port
    const dir = join(tmp(), 'never-created')
    try {
      const c = cli(['serve', `--listen-client-urls=http://127.0.0.1:${port}`, `--data-dir=${dir}`])
      expect(await c.exited).toBe(1)
      expect(c.stderr().trim()).toBe(`etcdlite: cannot listen on 127.0.0.1:${port}: address already in use`)
      expect(existsSync(dir)).toBe(false)
    } finally {
      blocker.close()
    }
  }, 40_000)

  test('a data directory in use by another etcdlite is refused', async () => {
    const dir = join(tmp(), 'data')
    const first = cli(['serve', `--data-dir=${dir}`, `--listen-client-urls=http://127.0.0.1:${await freePort()}`])
    children.push(first.child)
    await untilServing(first)
    const second = cli(['serve', `--data-dir=${dir}`, `--listen-client-urls=http://127.0.0.1:${await freePort()}`])
    expect(await second.exited).toBe(1)
    expect(second.stderr().trim()).toBe(`etcdlite: cannot open the data directory ${dir}: it is in use by another etcdlite`)
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
  }, 40_000)

  test('bad flags print the usage and exit 2; --version and help answer', async () => {
    const bad = cli(['serve', '--no-such-flag'])
    expect(await bad.exited).toBe(2)
    expect(bad.stderr()).toContain('flag provided but not defined: -no-such-flag')
    expect(bad.stderr()).toContain('Usage: etcdlite serve [flags]')
    const version = cli(['--version'])
    expect(await version.exited).toBe(0)
    expect(await version.lines.next()).toMatch(/^etcdlite \S+ \(etcd API 3\.4\.23\)$/)
    const help = cli(['help'])
    expect(await help.exited).toBe(0)
    expect(await help.lines.next()).toBe('Usage: etcdlite serve [flags]')
  }, 40_000)

  test('--auth-token-ttl reaches the engine: an unused token ends after that many seconds; --auth-token=jwt is refused', async () => {
    const lines: string[] = []
    const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) }
    expect(await main(['serve', '--in-memory', '--auth-token=jwt,sign-method=RS256'], {}, out)).toBe(2)
    expect(lines.join('\n')).toMatch(/^etcdlite: --auth-token: etcdlite has no JWT tokens; .*\n\nUsage: etcdlite serve \[flags\]/)

    const port = await freePort()
    const running = await main(['serve', '--in-memory', `--listen-client-urls=http://127.0.0.1:${port}`, '--auth-token=simple', '--auth-token-ttl=1'], {}, out)
    if (typeof running === 'number') throw new Error(`serve exited ${running}: ${lines.join('\n')}`)
    const services = remoteServices(`127.0.0.1:${port}`)
    try {
      await services.auth.userAdd({ name: 'root', password: 'pw' })
      await services.auth.userGrantRole({ user: 'root', role: 'root' })
      await services.auth.authEnable({})
      const { token } = await services.auth.authenticate({ name: 'root', password: 'pw' })
      await services.kv.put({ key: 'k', value: 'v' }, { token })
      await new Promise((r) => setTimeout(r, 1_100))
      await expect(services.kv.range({ key: 'k' }, { token })).rejects.toMatchObject({ code: 'ETCD_INVALID_AUTH_TOKEN' })
    } finally {
      services.close()
      await running.stop()
    }
  })

  test.skipIf(etcdctlMissing !== undefined)('etcdctl works against it', async () => {
    const port = await freePort()
    const c = cli(['serve', '--in-memory', `--listen-client-urls=http://127.0.0.1:${port}`])
    children.push(c.child)
    expect(await untilServing(c)).toContain('etcdlite: data in memory (--in-memory): nothing is kept after exit')
    const ep = `127.0.0.1:${port}`
    expect((await etcdctl(ep, ['put', 'a', '1'])).stdout).toBe('OK\n')
    expect((await etcdctl(ep, ['get', 'a'])).stdout).toBe('a\n1\n')
    c.child.kill('SIGTERM')
    expect(await c.exited).toBe(0)
  }, 40_000)
})
