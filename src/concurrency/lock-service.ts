import { Client } from '../api/client.ts'
import { asCaller } from '../api/login.ts'
import type { Services } from '../api/services.ts'
import type { LockService } from '../messages/concurrency.ts'
import type { LeaseIdLike } from '../messages/kv.ts'
import { Mutex } from './mutex.ts'
import { Session } from './session.ts'

/**
 * lockService is etcd's lock service (v3lockpb.Lock) over a services level: Lock is a Mutex of a session on the
 * caller's lease, acting with the caller's credentials; Unlock deletes the key Lock answered. As etcd 3.4 does, a
 * request without a lease gets a lease of its own (60 seconds, never renewed), so its lock lasts at most that long.
 */
export function lockService(services: Services): LockService {
  return {
    async lock(request, credentials, signal) {
      const client = new Client(asCaller(services, credentials))
      const mutex = new Mutex(await callerSession(client, request.lease), request.name)
      await mutex.lock(signal === undefined ? {} : { signal })
      return { header: mutex.header!, key: mutex.keyBytes }
    },
    async unlock(request, credentials) {
      const { header } = await services.kv.deleteRange({ key: request.key }, credentials)
      return { header }
    },
  }
}

/**
 * callerSession is the session etcd's lock and election services make for a request: on the lease it names, not
 * renewed by the server (the caller keeps it alive); with no lease (0), on a new lease of the default session TTL.
 */
export function callerSession(client: Client, lease: LeaseIdLike | undefined): Promise<Session> {
  const id = lease === undefined ? 0n : BigInt(lease)
  return Session.open(client, { ...(id === 0n ? {} : { lease: id }), keepAlive: false })
}
