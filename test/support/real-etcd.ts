import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Real etcd for tests: Debian's etcd-server (3.4), started on free loopback ports with a temporary data directory,
 * stopped and removed afterwards. `.ci/run` installs it; where it cannot be installed, `etcdBinary()` is undefined
 * and suites that need it say so in one line and skip.
 */

const CANDIDATES = ['/usr/bin/etcd', '/usr/local/bin/etcd']

/** etcdBinary is the path of an etcd 3.4 binary, or undefined when none is installed. */
export function etcdBinary(): string | undefined {
  for (const path of CANDIDATES) {
    const r = spawnSync(path, ['--version'], { encoding: 'utf8' })
    if (r.status === 0 && /etcd Version: 3\.4\./.test(r.stdout)) return path
  }
  return undefined
}

export interface RealEtcd {
  /** endpoint is host:port of the client URL. */
  readonly endpoint: string
  stop(): Promise<void>
  /** kill ends the process at once (SIGKILL), as a crash does, and waits for it to be gone; stop() then cleans up. */
  kill(): Promise<void>
}

/** freePort asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

/**
 * StartOptions start etcd on an existing data directory (one `etcdctl snapshot restore` wrote, with the same name and
 * peer port); the directory is then the caller's and is left in place.
 */
export interface StartOptions {
  readonly dataDir: string
  readonly name: string
  readonly peerPort: number
}

/** singleMemberArgs are etcd's flags for a single-member cluster on loopback ports, logging errors only. */
export function singleMemberArgs(name: string, dataDir: string, clientPort: number, peerPort: number): string[] {
  return [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', `http://127.0.0.1:${clientPort}`,
    '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `${name}=http://127.0.0.1:${peerPort}`,
    '--log-level', 'error',
    '--logger', 'zap',
  ]
}

/** startEtcd starts a fresh single-member etcd and resolves once it answers on its client port. */
export async function startEtcd(binary = etcdBinary(), on?: StartOptions): Promise<RealEtcd> {
  if (binary === undefined) throw new Error('etcd is not installed')
  const dir = on === undefined ? mkdtempSync(join(tmpdir(), 'etcdlite-oracle-')) : undefined
  const client = await freePort()
  const peer = on?.peerPort ?? (await freePort())
  const name = on?.name ?? 'oracle'
  const proc: ChildProcess = spawn(binary, singleMemberArgs(name, on?.dataDir ?? join(dir!, 'data'), client, peer), {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  proc.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)))
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  const stop = async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
    if (proc.exitCode === null) proc.kill('SIGKILL')
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 20_000
  for (;;) {
    if (proc.exitCode !== null) {
      await stop()
      throw new Error(`etcd exited at start: ${log}`)
    }
    try {
      const res = await fetch(`http://127.0.0.1:${client}/health`)
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`etcd did not become healthy: ${log}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const kill = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    await exited
  }
  return { endpoint: `127.0.0.1:${client}`, stop, kill }
}

/**
 * EtcdPool hands out fresh etcd instances, starting the next ones while tests run, so a suite that needs a new
 * etcd per test (every test expects revision 1) does not wait for each start. `drain()` stops the spares.
 */
export class EtcdPool {
  readonly #binary: string
  readonly #spares: Promise<RealEtcd>[] = []
  readonly #size: number

  constructor(binary: string, size = 3) {
    this.#binary = binary
    this.#size = size
  }

  /** take returns a fresh etcd; stop it when done. */
  async take(): Promise<RealEtcd> {
    while (this.#spares.length < this.#size + 1) this.#spares.push(this.#start())
    const next = this.#spares.shift()!
    this.#spares.push(this.#start())
    return next
  }

  /**
   * #start starts a spare, trying again when the start fails: a free port can be taken by another process between
   * freePort() and etcd binding it. A spare that cannot start fails only the test that takes it.
   */
  #start(): Promise<RealEtcd> {
    const attempt = async (): Promise<RealEtcd> => {
      for (let i = 1; ; i++) {
        try {
          return await startEtcd(this.#binary)
        } catch (err) {
          if (i >= 3) throw err
        }
      }
    }
    const spare = attempt()
    spare.catch(() => undefined)
    return spare
  }

  async drain(): Promise<void> {
    const spares = this.#spares.splice(0)
    await Promise.all(spares.map(async (p) => (await p.catch(() => undefined))?.stop()))
  }
}

/** ClusterMember is one member of a real etcd cluster started by a test. */
export interface ClusterMember {
  /** endpoint is host:port of the member's client URL. */
  readonly endpoint: string
  /** kill ends the member at once (SIGKILL), as a crash would. */
  kill(): Promise<void>
  /** restart starts a killed member again on its data directory; resolves once it answers /health. */
  restart(): Promise<void>
}

export interface RealCluster {
  readonly members: readonly ClusterMember[]
  stop(): Promise<void>
}

/** startCluster starts a fresh etcd cluster of `size` members on loopback, and resolves once every member is healthy. */
export async function startCluster(size: number, binary = etcdBinary()): Promise<RealCluster> {
  if (binary === undefined) throw new Error('etcd is not installed')
  const dir = mkdtempSync(join(tmpdir(), 'etcdlite-cluster-'))
  const ports: { client: number; peer: number }[] = []
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() })
  const initial = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',')
  const procs: (ChildProcess | undefined)[] = ports.map(() => undefined)
  const spawnMember = (i: number): ChildProcess => {
    const { client, peer } = ports[i]!
    const proc = spawn(
      binary,
      [
        '--name', `m${i}`,
        '--data-dir', join(dir, `m${i}`),
        '--listen-client-urls', `http://127.0.0.1:${client}`,
        '--advertise-client-urls', `http://127.0.0.1:${client}`,
        '--listen-peer-urls', `http://127.0.0.1:${peer}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
        '--initial-cluster', initial,
        '--initial-cluster-token', 'etcdlite-test',
        '--log-level', 'error',
        '--logger', 'zap',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    )
    procs[i] = proc
    return proc
  }
  const healthy = async (i: number): Promise<void> => {
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${ports[i]!.client}/health`)
        if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`etcd member m${i} did not become healthy`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const kill = async (i: number): Promise<void> => {
    const proc = procs[i]
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
    proc.kill('SIGKILL')
    await exited
  }
  const stop = async () => {
    await Promise.all(ports.map((_, i) => kill(i)))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < size; i++) spawnMember(i)
    await Promise.all(ports.map((_, i) => healthy(i)))
  } catch (err) {
    await stop()
    throw err
  }
  const members = ports.map(
    (p, i): ClusterMember => ({
      endpoint: `127.0.0.1:${p.client}`,
      kill: () => kill(i),
      restart: async () => {
        spawnMember(i)
        await healthy(i)
      },
    }),
  )
  return { members, stop }
}
