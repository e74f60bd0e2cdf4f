import { status as Status } from '@grpc/grpc-js'
import { int } from '../wire/codec.ts'
import { toGrpcStatus, type GrpcStatus } from '../wire/status.ts'
import type { WireMessage } from '../wire/proto.ts'
import { EtcdError, type EtcdErrorCode } from '../util/errors.ts'
import { FAULT_ERRORS, type FaultError } from './faults.ts'
import type { Rpc } from '../wire/rpc-table.ts'

/** What the tap answers on a fault's behalf, as a real etcd 3.4 member answers it. */

/** STOPPED is how a member going away ends a call: what drops, black holes and shutdowns answer. */
export const STOPPED = (): GrpcStatus => toGrpcStatus(new EtcdError('ETCD_STOPPED'))

/**
 * CONNECTION_LOST: the 'unavailable' fault's answer, a connection cut as a dead member's is. The client sees its
 * transport fail; the code and text are what the fake records for the call.
 */
const CONNECTION_LOST: GrpcStatus = { code: Status.UNAVAILABLE, details: 'etcdlite: connection cut (a dead member)', connectionLost: true }

/**
 * errorStatus is the status a real etcd 3.4 answers for a fault's error on this RPC: the error's own code and text;
 * on Lock and Election (which etcd serves through a client of its own) code Unknown with the text; a permission
 * refusal of an admin maintenance call is "auth: permission denied" (Unknown), as etcd 3.4 lets it through.
 */
export function errorStatus(rpc: Rpc, kind: FaultError): GrpcStatus {
  const named = FAULT_ERRORS[kind]
  if (named === null) return CONNECTION_LOST
  let code: EtcdErrorCode = named
  if (kind === 'permission-denied' && rpc.short === 'Maintenance' && rpc.auth === 'root') code = 'ETCD_MAINTENANCE_PERMISSION_DENIED'
  const err = new EtcdError(code)
  if (rpc.errorsAsUnknown) return { code: Status.UNKNOWN, details: err.wireMessage }
  return toGrpcStatus(err)
}

/** watchPermissionReason: the cancel reason etcd 3.4 gives a watch created outside the caller's permissions. */
export const WATCH_PERMISSION_REASON = `rpc error: code = PermissionDenied desc = ${new EtcdError('ETCD_PERMISSION_DENIED').wireMessage}`

/** revisionOf reads the header revision of a wire response. */
export function revisionOf(value: WireMessage | undefined): number | undefined {
  const h = value?.header as { revision?: unknown } | undefined
  return h === undefined || h === null ? undefined : int(h.revision as number)
}

