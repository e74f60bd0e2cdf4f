import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Helpers for the server tests: running etcdctl against a server, and test certificates. */

export const ETCDCTL = '/usr/bin/etcdctl'

/** etcdctlMissing is the reason etcdctl tests are skipped, or undefined when etcdctl is installed. */
export const etcdctlMissing: string | undefined = existsSync(ETCDCTL)
  ? undefined
  : `${ETCDCTL} is not installed (Debian's etcd-client); the etcdctl tests are skipped`

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * etcdctl runs etcdctl (API v3) against `endpoint` and resolves with its exit code and output. It never blocks the
 * event loop: the server under test runs in this process.
 */
export function etcdctl(endpoint: string, args: string[], options: { input?: string; extra?: string[] } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(ETCDCTL, [`--endpoints=${endpoint}`, '--command-timeout=5s', ...(options.extra ?? []), ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

/** ok runs etcdctl and fails with its output unless it exits 0; it resolves with stdout. */
export async function ok(endpoint: string, args: string[], options: { input?: string; extra?: string[] } = {}): Promise<string> {
  const r = await etcdctl(endpoint, args, options)
  if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r.stdout
}

/** json runs etcdctl with `-w json` and parses its output. */
export async function json<T = Record<string, unknown>>(endpoint: string, args: string[]): Promise<T> {
  return JSON.parse(await ok(endpoint, [...args, '-w', 'json'])) as T
}

/** b64 decodes etcdctl's base64 JSON bytes. */
export function b64(s: string | undefined): string {
  return Buffer.from(s ?? '', 'base64').toString()
}

/**
 * Lines reads a child's stdout line by line: `next()` waits for the next line, bounded by `timeoutMs`.
 */
export class Lines {
  readonly #lines: string[] = []
  #partial = ''
  #wake: (() => void) | undefined
  #closed = false

  constructor(child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      const parts = (this.#partial + d.toString()).split('\n')
      this.#partial = parts.pop()!
      this.#lines.push(...parts)
      this.#wake?.()
    })
    child.on('close', () => {
      this.#closed = true
      this.#wake?.()
    })
  }

  async next(timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    while (this.#lines.length === 0) {
      if (this.#closed) throw new Error('the process ended')
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('no line within the timeout')
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.#wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
      this.#wake = undefined
    }
    return this.#lines.shift()!
  }

  async take(n: number): Promise<string[]> {
    const out: string[] = []
    while (out.length < n) out.push(await this.next())
    return out
  }
}

/** Certs are PEM files of a throwaway CA, a server certificate for 127.0.0.1 / localhost, and a client certificate. */
export interface Certs {
  dir: string
  ca: string
  serverCert: string
  serverKey: string
  clientCert: string
  clientKey: string
  /** otherCa signs `strangerCert`: a client the server must refuse. */
  strangerCert: string
  strangerKey: string
}

/** opensslMissing is the reason TLS tests are skipped, or undefined when openssl is installed. */
export const opensslMissing: string | undefined =
  spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed; the TLS tests are skipped'

/** makeCerts creates the certificates with openssl in a temporary directory. */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'etcdlite-certs-'))
  const p = (name: string) => join(dir, name)
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`)
  }
  const ca = (name: string) => {
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.pem`)])
  }
  const leaf = (name: string, caName: string, ext: string) => {
    writeFileSync(p(`${name}.ext`), ext)
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`)])
    run(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${caName}.pem`), '-CAkey', p(`${caName}.key`), '-CAcreateserial', '-days', '2', '-extfile', p(`${name}.ext`), '-out', p(`${name}.pem`)])
  }
  ca('ca')
  ca('other-ca')
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n')
  leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n')
  leaf('stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n')
  return {
    dir,
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    strangerCert: p('stranger.pem'),
    strangerKey: p('stranger.key'),
  }
}
