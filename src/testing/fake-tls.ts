import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TlsOptions } from '../server/serve.ts'
import { makeTestCertificates } from './certificates.ts'

/** FakeTlsOptions: a fake served over TLS, with certificates made at start (see FakeTls). */
export interface FakeTlsOptions {
  /** clientCertAuth: every client must present a certificate signed by the fake's CA (`fake.tls.cert`). @default false */
  clientCertAuth?: boolean
  /**
   * clientName: the common name of the client certificate, which is the user a client signing in by certificate
   * acts as when auth is on (as in etcd). @default 'root'
   */
  clientName?: string
}

/**
 * FakeTls is what a client needs to reach a TLS fake, as PEM contents (for the etcd3 client's `credentials`) and as
 * files (for etcdctl's `--cacert`, `--cert`, `--key` and Go's tls config). The files are removed on close().
 *
 * @example
 * const client = new Etcd3({ hosts: fake.url, credentials: { rootCertificate: fake.tls.ca } })
 * // mutual TLS: credentials: { rootCertificate: fake.tls.ca, certChain: fake.tls.cert, privateKey: fake.tls.key }
 * // etcdctl --endpoints=${fake.url} --cacert=${fake.tls.caFile} --cert=${fake.tls.certFile} --key=${fake.tls.keyFile}
 */
export interface FakeTls {
  /** ca: the CA certificate that signed the server's and the client's certificates (trust it). */
  readonly ca: Buffer
  /** cert: a client certificate signed by `ca` (needed when `clientCertAuth`, accepted always). */
  readonly cert: Buffer
  /** key: the private key of `cert`. */
  readonly key: Buffer
  readonly caFile: string
  readonly certFile: string
  readonly keyFile: string
  /** clientCertAuth: whether the fake requires a client certificate. */
  readonly clientCertAuth: boolean
}

/** PreparedTls: the client side (FakeTls), the server side (serve()'s tls) and the clean-up of the files. */
export interface PreparedTls {
  readonly client: FakeTls
  readonly server: TlsOptions
  remove(): void
}

/** prepareTls makes the certificates and writes the client's files into a fresh temporary directory. */
export function prepareTls(options: true | FakeTlsOptions): PreparedTls {
  if (options !== true && (typeof options !== 'object' || options === null)) {
    throw new TypeError('fakeEtcd: tls is true or { clientCertAuth?, clientName? }')
  }
  const { clientCertAuth = false, clientName = 'root', ...rest } = options === true ? {} : options
  const extra = Object.keys(rest)
  if (extra.length > 0) throw new TypeError(`fakeEtcd: unknown tls option ${JSON.stringify(extra[0])}`)
  if (typeof clientCertAuth !== 'boolean') throw new TypeError('fakeEtcd: tls.clientCertAuth must be a boolean')
  if (typeof clientName !== 'string' || clientName === '') throw new TypeError('fakeEtcd: tls.clientName must be a non-empty string')
  const certs = makeTestCertificates(clientName)
  const dir = mkdtempSync(join(tmpdir(), 'etcdlite-fake-tls-'))
  const file = (name: string, contents: Buffer) => {
    const path = join(dir, name)
    writeFileSync(path, contents, { mode: 0o600 })
    return path
  }
  return {
    client: {
      ca: certs.ca.cert,
      cert: certs.client.cert,
      key: certs.client.key,
      caFile: file('ca.pem', certs.ca.cert),
      certFile: file('client.pem', certs.client.cert),
      keyFile: file('client-key.pem', certs.client.key),
      clientCertAuth,
    },
    server: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert, clientCertAuth },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
