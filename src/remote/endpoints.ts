import { status as GrpcStatus } from '@grpc/grpc-js'
import { EtcdError } from '../util/errors.ts'
import { remoteServices, type RemoteOptions, type RemoteServices } from '../server/remote-services.ts'
import { GrpcError } from '../server/status.ts'

/**
 * Endpoints holds one connection per endpoint of a cluster, opened when first used, and the one in use. A call that
 * cannot reach its endpoint moves the connection in use to the next one, so the following calls fail over.
 */
export class Endpoints {
  readonly #addresses: string[]
  readonly #options: RemoteOptions
  readonly #open: (RemoteServices | undefined)[]
  #current = 0
  #closed = false

  constructor(addresses: string[], options: RemoteOptions) {
    if (addresses.length === 0) throw new TypeError('connect: give at least one endpoint')
    this.#addresses = addresses
    this.#options = options
    this.#open = addresses.map(() => undefined)
  }

  get size(): number {
    return this.#addresses.length
  }

  get closed(): boolean {
    return this.#closed
  }

  /** current is the index of the endpoint in use. */
  get current(): number {
    return this.#current
  }

  address(i: number): string {
    return this.#addresses[i]!
  }

  /** services returns the connection to endpoint `i`, opening it when needed. */
  services(i: number): RemoteServices {
    if (this.#closed) throw new EtcdError('ETCD_STOPPED')
    return (this.#open[i] ??= remoteServices(this.#addresses[i]!, this.#options))
  }

  /** failed records that endpoint `i` could not be reached: the next call goes to the one after it. */
  failed(i: number): void {
    if (this.#current === i) this.#current = (i + 1) % this.#addresses.length
  }

  close(): void {
    this.#closed = true
    for (const s of this.#open) s?.close()
  }
}

/** isUnreachable tells whether an error means the endpoint could not be reached (or did not answer in time). */
export function isUnreachable(err: unknown): boolean {
  return (
    err instanceof GrpcError &&
    (err.grpcCode === GrpcStatus.UNAVAILABLE || err.grpcCode === GrpcStatus.DEADLINE_EXCEEDED)
  )
}

/** asEtcdError turns an unreachable endpoint's error into the EtcdError a caller can match on. */
export function asEtcdError(err: unknown): unknown {
  if (!(err instanceof GrpcError)) return err
  if (err.grpcCode === GrpcStatus.DEADLINE_EXCEEDED) return new EtcdError('ETCD_TIMEOUT')
  if (err.grpcCode === GrpcStatus.UNAVAILABLE) return new EtcdError('ETCD_UNAVAILABLE', `etcdlite: endpoint unreachable (${err.details})`)
  return err
}
