import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { isIP } from 'node:net'
import * as der from '../util/der.ts'

/**
 * Throwaway certificates for a TLS fake: a CA made at start, a server certificate it signs for 127.0.0.1 and
 * localhost, and a client certificate it signs (for mutual TLS), written as X.509 v3 in DER by hand (Node can read
 * certificates but not make them). Keys are ECDSA P-256, signed with SHA-256: a key pair costs well under a
 * millisecond, and every TLS stack an etcd client uses (OpenSSL under Node, Go's crypto/tls) takes them.
 */

/** KeyPair is a certificate and its private key, both PEM. */
export interface KeyPair {
  readonly cert: Buffer
  readonly key: Buffer
}

/** TestCertificates: the CA (its key too, to sign more), the server's pair and a client's pair. */
export interface TestCertificates {
  readonly ca: KeyPair
  readonly server: KeyPair
  readonly client: KeyPair
}

/** OIDs of the names, algorithms and extensions written (RFC 5280, RFC 5758). */
const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const

/** VALID_MS: how long the certificates are valid, from an hour before they are made (clock skew). */
const VALID_MS = 7 * 24 * 3600_000

/** Issuer is what signs a certificate: the CA's name, key and key identifier. */
interface Issuer {
  readonly name: string
  readonly key: KeyObject
  readonly keyId: Buffer
}

/** Subject describes one certificate to make. */
interface Subject {
  readonly name: string
  readonly publicKey: KeyObject
  readonly ca: boolean
  /** usage: the extended key usages of a leaf ('serverAuth', 'clientAuth'). */
  readonly usage: readonly ('serverAuth' | 'clientAuth')[]
  /** hosts: DNS names and IP addresses a server certificate is for. */
  readonly hosts: readonly string[]
}

/**
 * makeTestCertificates makes a fresh CA and the server and client certificates it signs. The server certificate
 * names 127.0.0.1, ::1 and localhost; the client certificate's common name is `clientName` (what etcd takes as the
 * user name when auth is on and the client signs in by certificate).
 */
export function makeTestCertificates(clientName = 'root'): TestCertificates {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const caKeyId = keyIdOf(caKeys.publicKey)
  const issuer: Issuer = { name: 'etcdlite test CA', key: caKeys.privateKey, keyId: caKeyId }
  const leaf = (subject: Omit<Subject, 'publicKey' | 'ca'>): KeyPair => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    return { cert: certificate({ ...subject, publicKey: keys.publicKey, ca: false }, issuer), key: pemKey(keys.privateKey) }
  }
  return {
    ca: { cert: certificate({ name: issuer.name, publicKey: caKeys.publicKey, ca: true, usage: [], hosts: [] }, issuer), key: pemKey(caKeys.privateKey) },
    server: leaf({ name: 'etcdlite test server', usage: ['serverAuth', 'clientAuth'], hosts: ['127.0.0.1', '::1', 'localhost'] }),
    client: leaf({ name: clientName, usage: ['clientAuth'], hosts: [] }),
  }
}

/** certificate writes one certificate for `subject`, signed by `issuer` (the CA signs itself). */
function certificate(subject: Subject, issuer: Issuer): Buffer {
  const algorithm = der.sequence(der.objectIdentifier(OID.ecdsaWithSha256))
  const now = Date.now()
  const serial = randomBytes(16)
  serial[0] = (serial[0]! & 0x7f) | 0x01 // positive, and 16 bytes long
  const extensions = [
    extension(OID.basicConstraints, true, subject.ca ? der.sequence(der.boolean(true)) : der.sequence()),
    // keyUsage: digitalSignature (bit 0); a CA adds keyCertSign (bit 5) and cRLSign (bit 6).
    extension(OID.keyUsage, true, subject.ca ? der.bitString(Buffer.from([0x86]), 7) : der.bitString(Buffer.from([0x80]), 1)),
    extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdOf(subject.publicKey))),
  ]
  if (!subject.ca) {
    extensions.push(extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, issuer.keyId))))
    extensions.push(extension(OID.extKeyUsage, false, der.sequence(...subject.usage.map((u) => der.objectIdentifier(OID[u])))))
  }
  if (subject.hosts.length > 0) extensions.push(extension(OID.subjectAltName, false, der.sequence(...subject.hosts.map(generalName))))
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(serial),
    algorithm,
    name(issuer.name),
    der.sequence(der.utcTime(new Date(now - 3600_000)), der.utcTime(new Date(now + VALID_MS))),
    name(subject.name),
    subject.publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(3, der.sequence(...extensions)),
  )
  const signature = sign('sha256', tbs, issuer.key) // DER-encoded ECDSA signature, as X.509 carries it
  return pem('CERTIFICATE', der.sequence(tbs, algorithm, der.bitString(signature)))
}

/** name is a distinguished name holding only a common name. */
function name(commonName: string): Buffer {
  return der.sequence(der.set(der.sequence(der.objectIdentifier(OID.commonName), der.utf8String(commonName))))
}

/** extension is one X.509 extension: its id, whether it is critical, and its value's DER. */
function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.objectIdentifier(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value))
}

/** generalName is a subjectAltName entry: an iPAddress ([7], the address bytes) or a dNSName ([2]). */
function generalName(host: string): Buffer {
  const family = isIP(host)
  if (family === 4) return der.implicit(7, Buffer.from(host.split('.').map(Number)))
  if (family === 6) return der.implicit(7, ipv6Bytes(host))
  return der.implicit(2, Buffer.from(host, 'latin1'))
}

/** ipv6Bytes expands an IPv6 address ('::1') to its 16 bytes. */
function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::')
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)))
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
  const out = Buffer.alloc(16)
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2))
  return out
}

/** keyIdOf: a key identifier, SHA-1 of the public key's SPKI (RFC 5280 4.2.1.2 allows any unique value). */
function keyIdOf(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest()
}

function pemKey(privateKey: KeyObject): Buffer {
  return Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'latin1')
}

function pem(label: string, body: Buffer): Buffer {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? []
  return Buffer.from(`-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`, 'latin1')
}
