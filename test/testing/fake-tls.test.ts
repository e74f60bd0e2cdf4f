import { existsSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { Etcd3 } from 'etcd3'
import { describe, expect, test } from 'vitest'
import { fakeEtcd } from '../../src/testing/index.ts'
import { etcdctl, etcdctlMissing } from '../server/helpers.ts'

/**
 * fakeEtcd({ tls }): a fake served over TLS with certificates made at start, reached by the etcd3 client and etcdctl
 * with what `fake.tls` hands them; with `clientCertAuth`, only clients presenting the fake's client certificate.
 */

describe('fakeEtcd with tls', () => {
  test('makes a CA, a server certificate for 127.0.0.1 and localhost, and a client certificate it signed', async () => {
    await using fake = await fakeEtcd({ tls: true })
    expect(fake.url).toBe(`https://${fake.endpoint}`)
    const tls = fake.tls!
    const ca = new X509Certificate(tls.ca)
    const client = new X509Certificate(tls.cert)
    expect(ca.ca).toBe(true)
    expect(client.ca).toBe(false)
    expect(client.verify(ca.publicKey)).toBe(true)
    expect(client.checkIssued(ca)).toBe(true)
    expect(client.subject).toBe('CN=root')
    expect(tls.clientCertAuth).toBe(false)
  })

  test('the etcd3 client over https with the CA from fake.tls', async () => {
    await using fake = await fakeEtcd({ tls: true, seed: { k: 'seeded' } })
    const client = new Etcd3({ hosts: fake.url, credentials: { rootCertificate: fake.tls!.ca } })
    try {
      expect(await client.get('k').string()).toBe('seeded')
      await client.put('k').value('over tls')
      expect(await fake.dump()).toEqual({ k: 'over tls' })
      // Reset keeps the same certificates and port.
      await fake.reset()
      await client.put('again').value('1')
      expect(await fake.dump()).toEqual({ again: '1' })
    } finally {
      client.close()
    }
  })

  test('clientCertAuth admits the etcd3 client with fake.tls.cert and refuses one without a certificate', async () => {
    await using fake = await fakeEtcd({ tls: { clientCertAuth: true } })
    const { ca, cert, key } = fake.tls!
    const withCert = new Etcd3({ hosts: fake.url, credentials: { rootCertificate: ca, certChain: cert, privateKey: key } })
    const without = new Etcd3({ hosts: fake.url, credentials: { rootCertificate: ca } })
    try {
      await withCert.put('k').value('mutual')
      expect(await fake.dump()).toEqual({ k: 'mutual' })
      await expect(without.put('k').value('refused')).rejects.toThrow(/UNAVAILABLE|connect|certificate|handshake/i)
      expect(await fake.dump()).toEqual({ k: 'mutual' })
    } finally {
      withCert.close()
      without.close()
    }
  })

  test.skipIf(etcdctlMissing !== undefined)('etcdctl over mutual TLS with the files from fake.tls', async () => {
    await using fake = await fakeEtcd({ tls: { clientCertAuth: true } })
    const { caFile, certFile, keyFile } = fake.tls!
    const files = [`--cacert=${caFile}`, `--cert=${certFile}`, `--key=${keyFile}`]
    expect((await etcdctl(fake.url, ['put', 'k', 'v'], { extra: files })).stdout).toBe('OK\n')
    expect((await etcdctl(fake.url, ['get', 'k', '--print-value-only'], { extra: files })).stdout).toBe('v\n')
    const noCert = await etcdctl(fake.url, ['get', 'k'], { extra: [`--cacert=${caFile}`, '--dial-timeout=1s', '--command-timeout=1s'] })
    expect(noCert.code).not.toBe(0)
    const noCa = await etcdctl(fake.url, ['get', 'k'], { extra: ['--dial-timeout=1s', '--command-timeout=1s'] })
    expect(noCa.code).not.toBe(0)
  })

  test('with auth on, a client certificate signs in as its common name, as in etcd', async () => {
    await using fake = await fakeEtcd({
      tls: { clientCertAuth: true, clientName: 'app' },
      auth: { roles: { app: [{ type: 'READWRITE', key: 'app/', prefix: true }] }, users: { app: { password: 'pw', roles: ['app'] } } },
    })
    const { ca, cert, key } = fake.tls!
    const client = new Etcd3({ hosts: fake.url, credentials: { rootCertificate: ca, certChain: cert, privateKey: key } })
    try {
      await client.put('app/x').value('1')
      await expect(client.put('other').value('1')).rejects.toThrow('etcdserver: permission denied')
      expect(await fake.dump()).toEqual({ 'app/x': '1' })
    } finally {
      client.close()
    }
  })

  test('close() removes the certificate files', async () => {
    const fake = await fakeEtcd({ tls: true })
    const { caFile, certFile, keyFile } = fake.tls!
    expect([caFile, certFile, keyFile].every((f) => existsSync(f))).toBe(true)
    await fake.close()
    expect([caFile, certFile, keyFile].some((f) => existsSync(f))).toBe(false)
  })

  test.each([
    ['a string', 'yes', 'tls is true or'],
    ['an unknown field', { mutual: true }, 'unknown tls option "mutual"'],
    ['a non-boolean clientCertAuth', { clientCertAuth: 'yes' }, 'tls.clientCertAuth must be a boolean'],
    ['an empty clientName', { clientName: '' }, 'tls.clientName must be a non-empty string'],
  ])('a bad tls option (%s) is a TypeError', async (_name, tls, message) => {
    await expect(fakeEtcd({ tls: tls as never })).rejects.toThrow(new TypeError(`fakeEtcd: ${message}`).message)
    await expect(fakeEtcd({ tls: tls as never })).rejects.toBeInstanceOf(TypeError)
  })

  test('without tls, fake.tls is undefined and the url is http', async () => {
    await using fake = await fakeEtcd()
    expect(fake.tls).toBeUndefined()
    expect(fake.url).toBe(`http://${fake.endpoint}`)
  })
})
