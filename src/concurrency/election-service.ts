import { Client } from '../api/client.ts'
import { asCaller } from '../api/login.ts'
import type { Services } from '../api/services.ts'
import type { ElectionService, LeaderKey, LeaderResponse, ServerStream } from '../messages/concurrency.ts'
import type { CallCredentials } from '../messages/auth.ts'
import { fromBin, toBin } from '../util/bytes.ts'
import { EtcdError } from '../util/errors.ts'
import { Election } from './election.ts'
import { callerSession } from './lock-service.ts'
import { Session } from './session.ts'

/**
 * electionService is etcd's election service (v3electionpb.Election) over a services level, each call an Election
 * of a session on the caller's lease, acting with the caller's credentials, as etcd 3.4's server does: Campaign waits
 * to lead and answers the leader key; Proclaim and Resign resume the leadership that key names; Leader reads the
 * oldest candidate; Observe streams the leader and its changes.
 */
export function electionService(services: Services): ElectionService {
  const clientOf = (credentials: CallCredentials | undefined) => new Client(asCaller(services, credentials))
  /** readerSession: Leader and Observe act on no lease of their own (etcd gives them lease -1, never granted). */
  const readerSession = (client: Client) => Session.open(client, { lease: -1n, keepAlive: false })
  const resumed = async (leader: LeaderKey | undefined, credentials: CallCredentials | undefined): Promise<Election> => {
    if (leader === undefined || leader === null) throw new EtcdError('ETCD_ELECTION_MISSING_LEADER')
    const session = await callerSession(clientOf(credentials), leader.lease)
    return Election.resume(session, leader.name, leader.key, leader.rev)
  }
  return {
    async campaign(request, credentials, signal) {
      const session = await callerSession(clientOf(credentials), request.lease)
      const election = new Election(session, request.name)
      await election.campaign(request.value ?? '', signal === undefined ? {} : { signal })
      return {
        header: election.header!,
        leader: { name: fromBin(toBin(request.name, 'name')), key: election.keyBytes, rev: election.rev, lease: session.lease },
      }
    },
    async proclaim(request, credentials) {
      const election = await resumed(request.leader, credentials)
      await election.proclaim(request.value ?? '')
      return { header: election.header! }
    },
    async leader(request, credentials) {
      const election = new Election(await readerSession(clientOf(credentials)), request.name)
      return election.leader()
    },
    observe(request, credentials): ServerStream<LeaderResponse> {
      const stop = new AbortController()
      const leaders = (async function* () {
        const election = new Election(await readerSession(clientOf(credentials)), request.name)
        yield* election.observe({ signal: stop.signal })
      })()
      return {
        close: () => {
          stop.abort()
          void leaders.return(undefined)
        },
        [Symbol.asyncIterator]: () => leaders,
      }
    },
    async resign(request, credentials) {
      const election = await resumed(request.leader, credentials)
      await election.resign()
      return { header: election.header! }
    },
  }
}
