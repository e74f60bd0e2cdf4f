import {
  Client as GrpcClient,
  credentials as grpcCredentials,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js'
import type { CallCredentials } from '../messages/auth.ts'
import type { BidiStream } from '../messages/stream.ts'
import { AsyncQueue } from '../util/async-queue.ts'
import { EtcdError } from '../util/errors.ts'
import type { Codec } from '../wire/codec.ts'
import type { MethodInfo, WireMessage } from '../wire/proto.ts'
import { fromGrpcStatus } from '../wire/status.ts'
import type { RemoteOptions, Transport } from './transport.ts'

/** metadataOf carries credentials as etcd's clients do: the token in the `token` metadata. */
export function metadataOf(credentials: CallCredentials | undefined): Metadata {
  const md = new Metadata()
  if (credentials?.token !== undefined) md.set('token', credentials.token)
  return md
}

/** Connection is one gRPC channel and the calls made on it (tests wrap it to send unusual encodings). */
export class Connection implements Transport {
  readonly #client: GrpcClient
  readonly #streams = new Set<RemoteStream<unknown, unknown>>()
  readonly #deadlineMs: number | undefined
  #closed = false

  constructor(endpoint: string, options: RemoteOptions) {
    this.#deadlineMs = options.deadlineMs
    this.#client = new GrpcClient(endpoint, options.credentials ?? grpcCredentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      ...options.channelOptions,
    })
  }

  unary<Req, Res>(m: MethodInfo, req: Codec<Req>, res: Codec<Res>, request: Req, credentials?: CallCredentials): Promise<Res> {
    if (this.#closed) return Promise.reject(new EtcdError('ETCD_STOPPED'))
    let wire: WireMessage
    try {
      wire = req.toWire(request)
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest<WireMessage, WireMessage>(
        m.path,
        m.request.encode,
        m.response.decode,
        wire,
        metadataOf(credentials),
        this.#deadlineMs === undefined ? {} : { deadline: Date.now() + this.#deadlineMs },
        (err: ServiceError | null, value?: WireMessage) => {
          if (err) reject(this.#closed ? new EtcdError('ETCD_STOPPED') : fromGrpcStatus(err))
          else {
            try {
              resolve(res.fromWire(value!))
            } catch (e) {
              reject(e)
            }
          }
        },
      )
    })
  }

  stream<Req, Res>(m: MethodInfo, req: Codec<Req>, res: Codec<Res>, credentials?: CallCredentials): BidiStream<Req, Res> {
    if (this.#closed) throw new EtcdError('ETCD_STOPPED')
    const call = this.#client.makeBidiStreamRequest<WireMessage, WireMessage>(
      m.path,
      m.request.encode,
      m.response.decode,
      metadataOf(credentials),
      {},
    )
    const s = new RemoteStream(call, req, res, () => this.#streams.delete(s as RemoteStream<unknown, unknown>))
    this.#streams.add(s as RemoteStream<unknown, unknown>)
    return s
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const s of [...this.#streams]) s.close()
    this.#client.close()
  }
}

/**
 * StreamCall is what RemoteStream needs of a client call: a grpc-js ClientDuplexStream, or anything else carrying
 * wire messages that emits 'data', 'end' and 'error' (a status with code and details) the same way.
 */
export interface StreamCall {
  write(wire: WireMessage): boolean
  cancel(): void
  pause(): unknown
  resume(): unknown
  on(event: 'data', listener: (wire: WireMessage) => void): unknown
  on(event: 'end', listener: () => void): unknown
  on(event: 'error', listener: (err: ServiceError) => void): unknown
}

/** HIGH_WATER, LOW_WATER: responses queued before the call is paused, and the level at which it resumes. */
const HIGH_WATER = 256
const LOW_WATER = 32

/**
 * RemoteStream is a services-level bidirectional stream over one gRPC call. Responses queue until read; past
 * HIGH_WATER the call is paused, so a slow reader pushes back on the server through HTTP/2 flow control.
 * close() cancels the call and ends the iteration.
 */
export class RemoteStream<Req, Res> implements BidiStream<Req, Res>, AsyncIterator<Res> {
  readonly #call: StreamCall
  readonly #req: Codec<Req>
  readonly #queue: AsyncQueue<Res>
  #closed = false
  readonly #onClose: () => void

  constructor(call: StreamCall, req: Codec<Req>, res: Codec<Res>, onClose: () => void) {
    this.#call = call
    this.#req = req
    this.#onClose = onClose
    this.#queue = new AsyncQueue<Res>(undefined, {
      highWater: HIGH_WATER,
      lowWater: LOW_WATER,
      pause: () => call.pause(),
      resume: () => call.resume(),
    })
    call.on('data', (wire: WireMessage) => {
      let value: Res
      try {
        value = res.fromWire(wire)
      } catch (err) {
        this.#finish(err)
        return
      }
      this.#queue.push(value)
    })
    // grpc-js reports a failed call with 'error' at once, while responses that arrived before it may still sit in
    // the stream (paused by backpressure); they come first, and 'end' follows them. The error is held until then.
    let failure: Error | undefined
    call.on('end', () => this.#finish(failure))
    call.on('error', (err: ServiceError) => {
      if (this.#closed) return
      failure = fromGrpcStatus(err)
      if (!this.#queue.paused) setImmediate(() => this.#finish(failure))
    })
  }

  send(request: Req): void {
    if (this.#closed || this.#queue.ended) throw new TypeError('the stream is closed')
    this.#call.write(this.#req.toWire(request))
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#call.cancel()
    void this.#queue.return()
    this.#onClose()
  }

  next(): Promise<IteratorResult<Res>> {
    return this.#queue.next()
  }

  return(): Promise<IteratorResult<Res>> {
    this.close()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterator<Res> {
    return this
  }

  /** finish ends the iteration after the queued responses, failing it with `err` when given. */
  #finish(err?: unknown): void {
    if (this.#queue.ended) return
    if (err !== undefined) this.#queue.fail(err)
    else this.#queue.end()
    if (!this.#closed) {
      this.#closed = true
      this.#onClose()
    }
  }
}
