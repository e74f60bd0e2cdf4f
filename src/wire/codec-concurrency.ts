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
import { bytes, bytesArg, field, header, id, idArg, int, intArg, keyValue, request, type Codec } from './codec.ts'
import type { WireInt, WireMessage } from './proto.ts'

/**
 * The codecs of etcd's lock (v3lockpb) and election (v3electionpb) services (see codec.ts for the conventions):
 * names, keys and values are bytes, leases signed 64-bit ids, and a leader key's rev a revision.
 */

export const lockRequest: Codec<LockRequest> = {
  fromWire: (w) => ({ name: bytes(w.name), lease: id(w.lease as WireInt) }),
  toWire(r) {
    request(r, 'the request')
    const w: WireMessage = {}
    field(w, 'name', bytesArg(r.name, 'name'))
    field(w, 'lease', idArg(r.lease, 'lease'))
    return w
  },
}

export const lockResponse: Codec<LockResponse> = {
  fromWire: (w) => ({ header: header.fromWire(w.header as WireMessage), key: bytes(w.key) }),
  toWire: (r) => {
    const w: WireMessage = { header: header.toWire(r.header) }
    field(w, 'key', bytesArg(r.key, 'key'))
    return w
  },
}

export const unlockRequest: Codec<UnlockRequest> = {
  fromWire: (w) => ({ key: bytes(w.key) }),
  toWire(r) {
    request(r, 'the request')
    const w: WireMessage = {}
    field(w, 'key', bytesArg(r.key, 'key'))
    return w
  },
}

const leaderKey: Codec<LeaderKey> = {
  fromWire: (w) => ({ name: bytes(w.name), key: bytes(w.key), rev: int(w.rev as WireInt), lease: id(w.lease as WireInt) }),
  toWire(k) {
    request(k, 'leader')
    const w: WireMessage = {}
    field(w, 'name', bytesArg(k.name, 'leader.name'))
    field(w, 'key', bytesArg(k.key, 'leader.key'))
    field(w, 'rev', intArg(k.rev, 'leader.rev'))
    field(w, 'lease', idArg(k.lease, 'leader.lease'))
    return w
  },
}

/** optionalLeader: a request's leader key, which etcd requires but the wire lets a client leave out. */
function optionalLeader(w: unknown): LeaderKey | undefined {
  return w === undefined || w === null ? undefined : leaderKey.fromWire(w as WireMessage)
}

export const campaignRequest: Codec<CampaignRequest> = {
  fromWire: (w) => ({ name: bytes(w.name), lease: id(w.lease as WireInt), value: bytes(w.value) }),
  toWire(r) {
    request(r, 'the request')
    const w: WireMessage = {}
    field(w, 'name', bytesArg(r.name, 'name'))
    field(w, 'lease', idArg(r.lease, 'lease'))
    field(w, 'value', bytesArg(r.value, 'value'))
    return w
  },
}

export const campaignResponse: Codec<CampaignResponse> = {
  fromWire(w) {
    const l = leaderKey.fromWire((w.leader as WireMessage | null) ?? {})
    return { header: header.fromWire(w.header as WireMessage), leader: { name: bytes(l.name), key: bytes(l.key), rev: l.rev, lease: BigInt(l.lease) } }
  },
  toWire: (r) => ({ header: header.toWire(r.header), leader: leaderKey.toWire(r.leader) }),
}

export const proclaimRequest: Codec<ProclaimRequest> = {
  fromWire(w) {
    const leader = optionalLeader(w.leader)
    return { ...(leader === undefined ? {} : { leader }), value: bytes(w.value) }
  },
  toWire(r) {
    request(r, 'the request')
    const w: WireMessage = {}
    if (r.leader !== undefined) w.leader = leaderKey.toWire(r.leader)
    field(w, 'value', bytesArg(r.value, 'value'))
    return w
  },
}

export const resignRequest: Codec<ResignRequest> = {
  fromWire(w) {
    const leader = optionalLeader(w.leader)
    return leader === undefined ? {} : { leader }
  },
  toWire(r) {
    request(r, 'the request')
    return r.leader === undefined ? {} : { leader: leaderKey.toWire(r.leader) }
  },
}

export const leaderRequest: Codec<LeaderRequest> = {
  fromWire: (w) => ({ name: bytes(w.name) }),
  toWire(r) {
    request(r, 'the request')
    const w: WireMessage = {}
    field(w, 'name', bytesArg(r.name, 'name'))
    return w
  },
}

export const leaderResponse: Codec<LeaderResponse> = {
  fromWire: (w) => ({ header: header.fromWire(w.header as WireMessage), kv: keyValue.fromWire((w.kv as WireMessage | null) ?? {}) }),
  toWire: (r) => ({ header: header.toWire(r.header), kv: keyValue.toWire(r.kv) }),
}
