import type {
  CampaignRequest,
  CampaignResponse,
  LeaderKey,
  LeaderRequest,
  LeaderResponse,
  LockRequest,
  LockResponse,
  ProclaimRequest,
  ResignRequest,
  UnlockRequest,
} from '../messages/concurrency.ts'
import { header, keyValue } from './codec.ts'
import { messageCodec } from './message-codec.ts'

/**
 * The codecs of etcd's lock (v3lockpb) and election (v3electionpb) services (see codec.ts for the conventions):
 * names, keys and values are bytes, leases signed 64-bit ids, and a leader key's rev a revision.
 */

const LEASE = ['lease']

export const lockRequest = messageCodec<LockRequest>('v3lockpb.LockRequest', { request: 'the request', ids: LEASE })
export const lockResponse = messageCodec<LockResponse>('v3lockpb.LockResponse', { messages: { header } })
export const unlockRequest = messageCodec<UnlockRequest>('v3lockpb.UnlockRequest', { request: 'the request' })

/** leaderKey is checked as a request on both sides: a caller hands it back in Proclaim and Resign. */
const leaderKey = messageCodec<LeaderKey>('v3electionpb.LeaderKey', { request: 'leader', prefix: 'leader.', ids: LEASE })

export const campaignRequest = messageCodec<CampaignRequest>('v3electionpb.CampaignRequest', { request: 'the request', ids: LEASE })
export const campaignResponse = messageCodec<CampaignResponse>('v3electionpb.CampaignResponse', { messages: { header, leader: leaderKey } })

/** Proclaim and Resign: etcd requires the leader key, but the wire lets a client leave it out. */
export const proclaimRequest = messageCodec<ProclaimRequest>('v3electionpb.ProclaimRequest', {
  request: 'the request',
  messages: { leader: leaderKey },
  optional: ['leader'],
})
export const resignRequest = messageCodec<ResignRequest>('v3electionpb.ResignRequest', {
  request: 'the request',
  messages: { leader: leaderKey },
  optional: ['leader'],
})

export const leaderRequest = messageCodec<LeaderRequest>('v3electionpb.LeaderRequest', { request: 'the request' })
export const leaderResponse = messageCodec<LeaderResponse>('v3electionpb.LeaderResponse', { messages: { header, kv: keyValue } })
