import { status as GrpcStatus } from '@grpc/grpc-js'
import { EtcdError } from '../util/errors.ts'
import { remoteServices, type RemoteServices } from './remote-services.ts'
import type { RemoteOptions } from './transport.ts'
import { GrpcError } from '../wire/status.ts'

/**
 * DOWN_MS: how long an endpoint that could not be reached is passed over when choosing where the next call goes,
 * unless every endpoint is down. A call or stream that succeeds there clears it at once.
 */
const DOWN_MS = 10_000

/**
 * Endpoints holds one connection per endpoint of a cluster, opened when first used, and the one in use. A call or
 * stream that cannot reach its endpoint reports that endpoint (the one it was sent to, which need not be the one in
 * use by then); if it is the one in use, the next call goes to the next endpoint not seen down lately. So a member
 * seen failing gets no new request while a healthy one is known, however many calls and streams report it.
 */
export class Endpoints {
  readonly #addresses: string[]
  readonly #options: RemoteOptions
  readonly #open: (RemoteServices | undefined)[]
  /** #downSince: when each endpoint was last seen unreachable (0: not since it last answered). */
  readonly #downSince: number[]
  #current = 0
  #closed = false

  constructor(addresses: string[], options: RemoteOptions) {
    if (addresses.length === 0) throw new TypeError('connect: give at least one endpoint')
    this.#addresses = addresses
    this.#options = options
    this.#open = addresses.map(() => undefined)
    this.#downSince = addresses.map(() => 0)
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

  /**
   * failed records that endpoint `i` could not be reached. When it is the one in use, the next call goes to the
   * next endpoint not seen down in the last DOWN_MS (or simply the next one, when all were).
   */
  failed(i: number): void {
    this.#downSince[i] = Date.now()
    if (this.#current !== i) return
    const n = this.#addresses.length
    const now = Date.now()
    for (let k = 1; k < n; k++) {
      const j = (i + k) % n
      if (now - this.#downSince[j]! >= DOWN_MS) {
        this.#current = j
        return
      }
    }
    this.#current = (i + 1) % n
  }

  /** answered records that endpoint `i` answered: it is no longer passed over. */
  answered(i: number): void {
    this.#downSince[i] = 0
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

/**
 * asEtcdError turns an unreachable endpoint's error into the EtcdError a caller can match on; the message names the
 * endpoint (`address`) when it is known.
 */
export function asEtcdError(err: unknown, address?: string): unknown {
  if (!(err instanceof GrpcError)) return err
  if (err.grpcCode === GrpcStatus.DEADLINE_EXCEEDED) return new EtcdError('ETCD_TIMEOUT')
  if (err.grpcCode === GrpcStatus.UNAVAILABLE) {
    const which = address === undefined ? 'endpoint' : `endpoint ${address}`
    return new EtcdError('ETCD_UNAVAILABLE', `etcdlite: ${which} unreachable (${err.details})`)
  }
  return err
}
