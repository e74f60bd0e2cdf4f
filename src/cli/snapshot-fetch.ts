import { Client as GrpcClient, credentials as grpcCredentials, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js'
import type { CallCredentials } from '../messages/auth.ts'
import { snapshotResponse } from '../wire/codec-maintenance.ts'
import { metadataOf } from '../remote/grpc-connection.ts'
import { remoteServices } from '../remote/remote-services.ts'
import { fromGrpcStatus } from '../wire/status.ts'
import { method, type WireMessage } from '../wire/proto.ts'

/** FetchOptions: where to ask for a snapshot, and as whom. */
export interface FetchOptions {
  /** endpoint is host:port of any server speaking etcd's v3 API (etcdlite or a real etcd). */
  readonly endpoint: string
  readonly credentials?: ChannelCredentials
  /** user and password sign the call in (Snapshot needs the root role once auth is on). */
  readonly user?: string
  readonly password?: string
}

/**
 * fetchSnapshot calls Maintenance.Snapshot and yields the blob of each message with the bytes still to come, as
 * etcd's server sends them (`remainingBytes`), so a caller can show progress. The stream ends with the snapshot's last
 * byte; a failure of the call rejects with the server's error.
 */
export async function* fetchSnapshot(options: FetchOptions): AsyncGenerator<{ blob: Uint8Array; remainingBytes: number }> {
  const channel = options.credentials ?? grpcCredentials.createInsecure()
  let callCredentials: CallCredentials | undefined
  if (options.user !== undefined) {
    const services = remoteServices(options.endpoint, { credentials: channel })
    try {
      const { token } = await services.auth.authenticate({ name: options.user, password: options.password ?? '' })
      callCredentials = { token }
    } finally {
      services.close()
    }
  }
  const client = new GrpcClient(options.endpoint, channel, { 'grpc.max_receive_message_length': -1 })
  const m = method('etcdserverpb.Maintenance', 'Snapshot')
  const call = client.makeServerStreamRequest<WireMessage, WireMessage>(m.path, m.request.encode, m.response.decode, {}, metadataOf(callCredentials))
  try {
    for await (const wire of call as AsyncIterable<WireMessage>) {
      const r = snapshotResponse.fromWire(wire)
      yield { blob: r.blob, remainingBytes: r.remainingBytes }
    }
  } catch (err) {
    throw 'code' in (err as object) ? fromGrpcStatus(err as ServiceError) : err
  } finally {
    call.cancel()
    client.close()
  }
}
