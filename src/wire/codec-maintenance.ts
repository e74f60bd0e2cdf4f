import type {
  AlarmMember,
  AlarmRequest,
  AlarmResponse,
  AlarmType,
  DefragmentResponse,
  HashKVRequest,
  HashKVResponse,
  HashResponse,
  Member,
  MemberListResponse,
  SnapshotResponse,
  StatusResponse,
} from '../messages/maintenance.ts'
import { bytes, field, header, int, intArg, long, request, uid, type Codec } from './codec.ts'
import type { WireInt, WireMessage } from './proto.ts'

/** The codecs of etcd's Maintenance and Cluster services (see codec.ts for the conventions). */

const alarmActions = ['GET', 'ACTIVATE', 'DEACTIVATE'] as const
const alarmTypes = ['NONE', 'NOSPACE', 'CORRUPT'] as const

interface WireAlarm {
  action: number
  memberID: WireInt
  alarm: number
}

export const alarmRequest: Codec<AlarmRequest> = {
  fromWire(w) {
    const m = w as unknown as WireAlarm
    return {
      action: alarmActions[m.action] ?? 'GET',
      memberId: uid(m.memberID),
      alarm: alarmTypes[m.alarm] ?? 'NONE',
    }
  },
  toWire(r) {
    request(r, 'alarm request')
    const w: WireMessage = {}
    const action = alarmActions.indexOf(r.action ?? 'GET')
    const alarm = alarmTypes.indexOf(r.alarm ?? 'NONE')
    if (action < 0) throw new TypeError(`unknown alarm action ${String(r.action)}`)
    if (alarm < 0) throw new TypeError(`unknown alarm type ${String(r.alarm)}`)
    field(w, 'action', action)
    if (r.memberId !== undefined && r.memberId !== 0n) w.memberID = long(r.memberId)
    field(w, 'alarm', alarm)
    return w
  },
}

export const alarmResponse: Codec<AlarmResponse> = {
  fromWire(w) {
    const alarms = (w.alarms as WireAlarm[]).map(
      (a): AlarmMember => ({ memberId: uid(a.memberID), alarm: (alarmTypes[a.alarm] ?? 'NONE') as AlarmType }),
    )
    return { header: header.fromWire(w.header as WireMessage), alarms }
  },
  // etcd 3.4 answers Alarm without a header.
  toWire(r) {
    const w: WireMessage = {}
    if (r.alarms.length > 0) {
      w.alarms = r.alarms.map((a) => {
        const m: WireMessage = {}
        if (a.memberId !== 0n) m.memberID = long(a.memberId)
        field(m, 'alarm', alarmTypes.indexOf(a.alarm))
        return m
      })
    }
    return w
  },
}

interface WireStatus {
  header: WireMessage | null
  version: string
  dbSize: WireInt
  leader: WireInt
  raftIndex: WireInt
  raftTerm: WireInt
  raftAppliedIndex: WireInt
  errors: string[]
  dbSizeInUse: WireInt
  isLearner: boolean
}

export const statusResponse: Codec<StatusResponse> = {
  fromWire(w) {
    const m = w as unknown as WireStatus
    return {
      header: header.fromWire(m.header!),
      version: m.version ?? '',
      dbSize: int(m.dbSize),
      leader: uid(m.leader),
      raftIndex: int(m.raftIndex),
      raftTerm: int(m.raftTerm),
      raftAppliedIndex: int(m.raftAppliedIndex),
      errors: [...m.errors],
      dbSizeInUse: int(m.dbSizeInUse),
      isLearner: m.isLearner === true,
    }
  },
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    field(w, 'version', r.version)
    field(w, 'dbSize', r.dbSize)
    if (r.leader !== 0n) w.leader = long(r.leader)
    field(w, 'raftIndex', r.raftIndex)
    field(w, 'raftTerm', r.raftTerm)
    field(w, 'raftAppliedIndex', r.raftAppliedIndex)
    if (r.errors.length > 0) w.errors = r.errors
    field(w, 'dbSizeInUse', r.dbSizeInUse)
    field(w, 'isLearner', r.isLearner)
    return w
  },
}

export const defragmentResponse: Codec<DefragmentResponse> = {
  fromWire: (w) => ({ header: header.fromWire(w.header as WireMessage) }),
  // etcd 3.4 answers Defragment without a header: an empty message.
  toWire: () => ({}),
}

export const hashResponse: Codec<HashResponse> = {
  fromWire: (w) => ({ header: header.fromWire(w.header as WireMessage), hash: (w.hash as number) >>> 0 }),
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    field(w, 'hash', r.hash >>> 0)
    return w
  },
}

export const hashKVRequest: Codec<HashKVRequest> = {
  fromWire: (w) => ({ revision: int(w.revision as WireInt) }),
  toWire(r) {
    request(r ?? {}, 'hashKV request')
    const w: WireMessage = {}
    field(w, 'revision', intArg(r?.revision, 'revision'))
    return w
  },
}

export const hashKVResponse: Codec<HashKVResponse> = {
  fromWire: (w) => ({
    header: header.fromWire(w.header as WireMessage),
    hash: (w.hash as number) >>> 0,
    compactRevision: int(w.compactRevision as WireInt),
  }),
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    field(w, 'hash', r.hash >>> 0)
    field(w, 'compactRevision', r.compactRevision)
    return w
  },
}

export const snapshotResponse: Codec<SnapshotResponse> = {
  fromWire: (w) => ({
    header: header.fromWire(w.header as WireMessage),
    remainingBytes: int(w.remainingBytes as WireInt),
    blob: bytes(w.blob),
  }),
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    field(w, 'remainingBytes', r.remainingBytes)
    if (r.blob.length > 0) w.blob = r.blob
    return w
  },
}

interface WireMember {
  ID: WireInt
  name: string
  peerURLs: string[]
  clientURLs: string[]
  isLearner: boolean
}

export const member: Codec<Member> = {
  fromWire(w) {
    const m = w as unknown as WireMember
    return {
      id: uid(m.ID),
      name: m.name ?? '',
      peerURLs: [...m.peerURLs],
      clientURLs: [...m.clientURLs],
      isLearner: m.isLearner === true,
    }
  },
  toWire(m) {
    const w: WireMessage = {}
    if (m.id !== 0n) w.ID = long(m.id)
    field(w, 'name', m.name)
    if (m.peerURLs.length > 0) w.peerURLs = m.peerURLs
    if (m.clientURLs.length > 0) w.clientURLs = m.clientURLs
    field(w, 'isLearner', m.isLearner)
    return w
  },
}

export const memberListResponse: Codec<MemberListResponse> = {
  fromWire: (w) => ({
    header: header.fromWire(w.header as WireMessage),
    members: (w.members as WireMessage[]).map(member.fromWire),
  }),
  toWire(r) {
    const w: WireMessage = { header: header.toWire(r.header) }
    if (r.members.length > 0) w.members = r.members.map(member.toWire)
    return w
  },
}
