import type { CallCredentials } from '../messages/auth.ts'
import type { CallMetadata } from './grpc-call.ts'

/** CallLike is the part of a call that carries credentials: metadata, and the TLS peer where there is one. */
export interface CallLike {
  readonly metadata: CallMetadata
  getAuthContext?(): { sslPeerCertificate?: { subject?: { CN?: string | string[] } } }
}

/**
 * credentialsOf reads a call's credentials as etcd does: a token in the `token` metadata (or `authorization`, which
 * the gateway fills from its Authorization header), and the common name of a verified client certificate.
 */
export function credentialsOf(call: CallLike): CallCredentials | undefined {
  const md = call.metadata
  const token = md.get('token')[0] ?? md.get('authorization')[0]
  const cn = call.getAuthContext?.()?.sslPeerCertificate?.subject?.CN
  const commonName = Array.isArray(cn) ? cn[0] : cn
  if (token === undefined && commonName === undefined) return undefined
  const credentials: { token?: string; commonName?: string } = {}
  if (token !== undefined) credentials.token = String(token)
  if (commonName !== undefined) credentials.commonName = commonName
  return credentials
}
