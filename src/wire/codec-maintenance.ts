import type {
  AlarmMember,
  AlarmRequest,
  AlarmResponse,
  DefragmentResponse,
  HashKVRequest,
  HashKVResponse,
  HashResponse,
  Member,
  MemberListResponse,
  SnapshotResponse,
  StatusResponse,
} from '../messages/maintenance.ts'
import { header, type Codec } from './codec.ts'
import { messageCodec, type FieldHook } from './message-codec.ts'

/** The codecs of etcd's Maintenance and Cluster services (see codec.ts for the conventions). */

/** MEMBER_NAMES: etcd spells member ids `memberID` and `ID`; the services level `memberId` and `id`. */
const MEMBER_NAMES = { memberID: 'memberId', ID: 'id' } as const
const MEMBER_IDS = ['memberID', 'ID', 'leader']

/** NO_HEADER: etcd 3.4 answers Alarm and Defragment without a header; a header that comes is still read. */
const NO_HEADER: FieldHook = { fromWire: (v) => header.fromWire(v as never), toWire: () => undefined }

export const alarmRequest = messageCodec<AlarmRequest>('etcdserverpb.AlarmRequest', {
  request: 'alarm request',
  names: MEMBER_NAMES,
  ids: MEMBER_IDS,
})

const alarmMember = messageCodec<AlarmMember>('etcdserverpb.AlarmMember', { names: MEMBER_NAMES, ids: MEMBER_IDS })

export const alarmResponse = messageCodec<AlarmResponse>('etcdserverpb.AlarmResponse', {
  hooks: { header: NO_HEADER },
  messages: { alarms: alarmMember },
})

export const statusResponse = messageCodec<StatusResponse>('etcdserverpb.StatusResponse', { ids: MEMBER_IDS, messages: { header } })

export const defragmentResponse = messageCodec<DefragmentResponse>('etcdserverpb.DefragmentResponse', { hooks: { header: NO_HEADER } })

export const hashResponse = messageCodec<HashResponse>('etcdserverpb.HashResponse', { messages: { header } })

const hashKVFields = messageCodec<HashKVRequest>('etcdserverpb.HashKVRequest', { request: 'hashKV request' })

/** hashKVRequest: the request may be left out altogether (every field is optional). */
export const hashKVRequest: Codec<HashKVRequest> = {
  fromWire: hashKVFields.fromWire,
  toWire: (r) => hashKVFields.toWire(r ?? {}),
}

export const hashKVResponse = messageCodec<HashKVResponse>('etcdserverpb.HashKVResponse', { messages: { header } })

export const snapshotResponse = messageCodec<SnapshotResponse>('etcdserverpb.SnapshotResponse', { messages: { header } })

export const member = messageCodec<Member>('etcdserverpb.Member', { names: MEMBER_NAMES, ids: MEMBER_IDS })

export const memberListResponse = messageCodec<MemberListResponse>('etcdserverpb.MemberListResponse', { messages: { header, members: member } })
