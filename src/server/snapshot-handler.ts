import type { ServerWritableStream } from '@grpc/grpc-js'
import type { Services } from '../api/services.ts'
import type { CallCredentials } from '../messages/auth.ts'
import type { SnapshotResponse } from '../messages/maintenance.ts'
import { snapshotResponse } from '../wire/codec-maintenance.ts'
import type { WireMessage } from '../wire/proto.ts'
import { toGrpcStatus } from '../wire/status.ts'
import { credentialsOf } from './call-credentials.ts'

/** SNAPSHOT_CHUNK_BYTES: the blob size of each Snapshot message, as etcd sends them (32 KiB). */
const SNAPSHOT_CHUNK_BYTES = 32 * 1024
/**
 * SNAPSHOT_QUEUE_BYTES: a snapshot stream waits for 'drain' only with this much unsent (an HTTP/2 stream asks for it
 * past 16 KiB, less than one message, which would hand the messages over one round trip at a time).
 */
const SNAPSHOT_QUEUE_BYTES = 1 << 20

/** SizedStream is a stream of bytes whose total `size` may be known once its first chunk is out. */
export type SizedStream = AsyncIterable<Uint8Array> & { readonly size?: number | undefined }

/**
 * streamSnapshot answers Snapshot with the engine's snapshot: a bbolt file in etcd 3.4's layout and its SHA-256, which
 * `etcdctl snapshot save` stores and `etcdctl snapshot restore` reads. Each message's remainingBytes is exact, as
 * etcd's are: a stream whose size is known once its first chunk is out is sent as it is written; any other is
 * gathered whole first.
 */
export async function streamSnapshot(
  services: Services,
  snapshot: (credentials: CallCredentials | undefined) => SizedStream,
  call: ServerWritableStream<WireMessage, WireMessage>,
): Promise<void> {
  let gone = false
  call.on('cancelled', () => (gone = true))
  try {
    const parts: Uint8Array[] = []
    const stream = snapshot(credentialsOf(call))
    const { header } = await services.maintenance.status({})
    let total: number | undefined
    let sent = 0
    // queued: bytes written since the call last drained; up to SNAPSHOT_QUEUE_BYTES go out without waiting.
    let queued = 0
    call.on('drain', () => (queued = 0))
    const send = async (chunks: Iterable<Uint8Array>) => {
      for (const chunk of chunks) {
        sent += chunk.length
        const response: SnapshotResponse = { header, remainingBytes: total! - sent, blob: chunk }
        if (!call.write(snapshotResponse.toWire(response)) && (queued += chunk.length) >= SNAPSHOT_QUEUE_BYTES) await drained(call)
        if (gone) return
      }
    }
    for await (const part of stream) {
      if (gone) return
      total ??= stream.size
      if (total === undefined) parts.push(part)
      else if (part.length > 0) await send(chunksOf([part], SNAPSHOT_CHUNK_BYTES))
    }
    if (total === undefined) {
      total = parts.reduce((n, p) => n + p.length, 0)
      await send(chunksOf(parts, SNAPSHOT_CHUNK_BYTES))
    }
    if (!gone) call.end()
  } catch (err) {
    if (!gone) call.emit('error', toGrpcStatus(err))
  }
}

/**
 * chunksOf cuts the concatenation of `parts` into chunks of `size` bytes (the last may be shorter; an empty input is
 * one empty chunk), copying only the chunks that straddle two parts.
 */
export function* chunksOf(parts: readonly Uint8Array[], size: number): Generator<Uint8Array> {
  let pending: Uint8Array[] = []
  let pendingBytes = 0
  let any = false
  for (const part of parts) {
    let at = 0
    while (at < part.length) {
      const take = Math.min(size - pendingBytes, part.length - at)
      const piece = part.subarray(at, at + take)
      at += take
      if (pendingBytes === 0 && take === size) {
        any = true
        yield piece
        continue
      }
      pending.push(piece)
      pendingBytes += take
      if (pendingBytes === size) {
        any = true
        yield Buffer.concat(pending)
        pending = []
        pendingBytes = 0
      }
    }
  }
  if (pendingBytes > 0 || !any) yield Buffer.concat(pending)
}

/** drained resolves when a paused call can take writes again, or is gone. */
function drained(call: ServerWritableStream<WireMessage, WireMessage>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done)
      call.off('close', done)
      resolve()
    }
    call.on('drain', done)
    call.on('close', done)
  })
}

