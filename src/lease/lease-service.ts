import type { CallCredentials } from '../messages/auth.ts'
import type { KvAccess } from '../mvcc/kv-access.ts'
import { EtcdError } from '../util/errors.ts'
import { AsyncQueue } from '../util/async-queue.ts'
import { fromBin } from '../util/bytes.ts'
import { int, leaseId } from '../util/fields.ts'
import type { ResponseHeader } from '../messages/kv.ts'
import type {
  Lease,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../messages/lease.ts'
import type { BidiStream } from '../messages/stream.ts'
import type { Lessor } from './lessor.ts'

/** LeaseContext is what the Lease service needs from the engine around it. */
export interface LeaseContext {
  readonly lessor: Lessor
  /** header builds a response header at the store's current revision. */
  header(): ResponseHeader
  assertOpen(): void
  /** durable settles once everything written so far is on disk (undefined when nothing waits). */
  durable(): Promise<void> | undefined
  /** access checks permissions once auth is on: revoking needs write permission over the lease's keys. */
  readonly access?: KvAccess
  /** onClose registers cleanup to run when the engine closes (ending open keepalive streams). */
  onClose(fn: () => void): void
}

/** LeaseService is etcd's Lease service over the lessor. */
export class LeaseService implements Lease {
  readonly #ctx: LeaseContext
  readonly #streams = new Set<AsyncQueue<LeaseKeepAliveResponse>>()

  constructor(ctx: LeaseContext) {
    this.#ctx = ctx
    ctx.onClose(() => {
      for (const s of this.#streams) s.end()
      this.#streams.clear()
    })
  }

  async leaseGrant(request: LeaseGrantRequest, credentials?: CallCredentials): Promise<LeaseGrantResponse> {
    this.#ctx.assertOpen()
    if (credentials !== undefined) this.#ctx.access?.checkToken(credentials)
    assertObject(request, 'lease grant request')
    const lease = this.#ctx.lessor.grant(leaseId(request.id, 'id'), int(request.ttl, 'ttl'))
    const header = this.#ctx.header()
    await this.#ctx.durable()
    return { header, id: lease.id, ttl: lease.ttl, error: '' }
  }

  async leaseRevoke(request: LeaseRevokeRequest, credentials?: CallCredentials): Promise<LeaseRevokeResponse> {
    this.#ctx.assertOpen()
    assertObject(request, 'lease revoke request')
    const id = leaseId(request.id, 'id')
    const access = this.#ctx.access
    if (access !== undefined && (credentials !== undefined || access.enabled)) {
      // As in etcd: a token given must be valid; then a missing lease is NOT_FOUND whoever asks, and a lease without
      // keys needs no permission.
      access.checkToken(credentials)
      const lease = this.#ctx.lessor.get(id)
      if (lease === undefined) throw new EtcdError('ETCD_LEASE_NOT_FOUND')
      if (lease.keys.size > 0) access.check(credentials, [], [...lease.keys].map((key) => [key, ''] as const))
    }
    this.#ctx.lessor.revoke(id)
    const header = this.#ctx.header()
    await this.#ctx.durable()
    return { header }
  }

  leaseKeepAlive(): BidiStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
    this.#ctx.assertOpen()
    const ctx = this.#ctx
    const responses: AsyncQueue<LeaseKeepAliveResponse> = new AsyncQueue(() => this.#streams.delete(responses))
    this.#streams.add(responses)
    return {
      send: (request: LeaseKeepAliveRequest) => {
        ctx.assertOpen()
        if (responses.ended) throw new TypeError('leaseKeepAlive: the stream is closed')
        assertObject(request, 'lease keepalive request')
        const id = leaseId(request.id, 'id')
        responses.push({ header: ctx.header(), id, ttl: ctx.lessor.renew(id) })
      },
      close: () => {
        responses.end()
        this.#streams.delete(responses)
      },
      [Symbol.asyncIterator]: () => responses,
    }
  }

  async leaseTimeToLive(request: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    this.#ctx.assertOpen()
    assertObject(request, 'lease time-to-live request')
    const id = leaseId(request.id, 'id')
    const lease = this.#ctx.lessor.get(id)
    if (lease === undefined) return { header: this.#ctx.header(), id, ttl: -1, grantedTtl: 0, keys: [] }
    return {
      header: this.#ctx.header(),
      id,
      ttl: this.#ctx.lessor.remaining(lease),
      grantedTtl: lease.ttl,
      keys: request.keys === true ? [...lease.keys].map(fromBin) : [],
    }
  }

  async leaseLeases(): Promise<LeaseLeasesResponse> {
    this.#ctx.assertOpen()
    return { header: this.#ctx.header(), leases: this.#ctx.lessor.ids().map((id) => ({ id })) }
  }
}

function assertObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${what} must be an object`)
}
