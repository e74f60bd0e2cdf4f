import type { UntypedServiceImplementation } from '@grpc/grpc-js'
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { Engine } from '../api/engine.ts'
import { ETCD_VERSION } from '../maintenance/maintenance-service.ts'
import type { ServiceName } from '../wire/proto.ts'
import { rowsOf } from '../wire/rpc-table.ts'

/**
 * /metrics: Prometheus text with etcd's metric names where one fits, the gRPC server counters etcd exports (in the
 * shape of go-grpc-prometheus, by service, method, type and code), and Node's process metrics (prom-client's
 * defaults).
 *
 * Nothing is counted through prom-client on a request's path. The engine keeps plain counters (KvStats) and the
 * call counters here are array slots, one addition each; prom-client reads them all when /metrics is scraped.
 */

/** GRPC_CODES are the status code names go-grpc-prometheus writes in grpc_code. */
const GRPC_CODES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const

type GrpcType = 'unary' | 'server_stream' | 'bidi_stream'

/** MethodCounts are one RPC's counters. */
class MethodCounts {
  started = 0
  received = 0
  sent = 0
  readonly handled = new Array<number>(GRPC_CODES.length).fill(0)

  constructor(
    readonly service: string,
    readonly method: string,
    readonly type: GrpcType,
    /** lazy: the method's series appear only once they count something (not listed at 0 from the start). */
    readonly lazy: boolean,
  ) {}

  /** labels in etcd's order (go-grpc-prometheus sorts them by name). */
  get labels() {
    return { grpc_method: this.method, grpc_service: this.service, grpc_type: this.type }
  }
}

/** MetricsSources are what the metrics read at a scrape. */
export interface MetricsSources {
  readonly engine: Engine
  /** memberId is the member's id, reported by etcd_server_id. */
  readonly memberId: bigint
}

/** ServerMetrics counts calls and renders /metrics. */
export class ServerMetrics {
  readonly registry = new Registry()
  readonly #calls = new Map<string, MethodCounts>()

  /**
   * @param services are counted from the start: each method's series is listed at 0 before any call, as etcd lists
   *   its own services'.
   * @param lazyServices are counted once called: etcd lists its lock and election services' series only then.
   */
  constructor(sources: MetricsSources, services: readonly ServiceName[], lazyServices: readonly ServiceName[] = []) {
    // The engine is read at each scrape: a server may replace the engine it serves.
    const engine = () => sources.engine
    for (const service of [...services, ...lazyServices]) {
      for (const row of rowsOf(service)) {
        const type: GrpcType = row.kind === 'bidi' ? 'bidi_stream' : row.kind === 'server-stream' ? 'server_stream' : 'unary'
        this.#calls.set(`${service}/${row.method}`, new MethodCounts(service, row.method, type, lazyServices.includes(service)))
      }
    }
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })

    const stats = () => engine().stats()
    const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(await read())
        },
      })
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset()
          this.inc(read())
        },
      })
    const dbSize = async () => (engine().closed ? 0 : (await engine().services.maintenance.status({})).dbSize)

    const info = (name: string, help: string, label: string, value: string) =>
      new Gauge({ name, help, labelNames: [label], registers }).set({ [label]: value }, 1)
    gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => 1)
    gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () => 1)
    info('etcd_server_version', "Which version is running. 1 for 'server_version' label with current version.", 'server_version', ETCD_VERSION)
    info('etcd_cluster_version', "Which version is running. 1 for 'cluster_version' label with current cluster version", 'cluster_version', '3.4')
    info('etcd_server_id', "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.", 'server_id', sources.memberId.toString(16))
    gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', dbSize)
    gauge('etcd_debugging_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', dbSize)
    gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Total size of the underlying database logically in use in bytes.', dbSize)
    gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.', () => stats().keys)
    gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.', () => stats().watchers)
    gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => stats().revision)
    // etcd reports -1 until the first compaction.
    gauge('etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction in store.', () => stats().compactRevision || -1)
    gauge('etcd_debugging_mvcc_total_put_size_in_bytes', 'The total size of put kv pairs seen by this member.', () => stats().putBytes)
    for (const prefix of ['etcd_mvcc', 'etcd_debugging_mvcc']) {
      counter(`${prefix}_put_total`, 'Total number of puts seen by this member.', () => stats().puts)
      counter(`${prefix}_delete_total`, 'Total number of deletes seen by this member.', () => stats().deletes)
      counter(`${prefix}_range_total`, 'Total number of ranges seen by this member.', () => stats().ranges)
      counter(`${prefix}_txn_total`, 'Total number of txns seen by this member.', () => stats().txns)
    }
    counter('etcd_debugging_lease_granted_total', 'The total number of granted leases.', () => stats().leasesGranted)
    counter('etcd_debugging_lease_revoked_total', 'The total number of revoked leases.', () => stats().leasesRevoked)
    counter('etcd_debugging_lease_renewed_total', 'The number of renewed leases seen by the leader.', () => stats().leasesRenewed)
    counter('etcd_debugging_server_lease_expired_total', 'The total number of expired leases.', () => stats().leasesExpired)
    gauge('etcd_debugging_auth_revision', 'The current revision of auth store.', async () =>
      engine().closed ? 0 : (await engine().services.auth.authStatus({})).authRevision,
    )

    const calls = [...this.#calls.values()]
    const callCounter = (name: string, help: string, read: (c: MethodCounts) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['grpc_method', 'grpc_service', 'grpc_type'],
        registers,
        collect() {
          this.reset()
          for (const c of calls) {
            const n = read(c)
            if (n > 0 || !c.lazy) this.inc(c.labels, n)
          }
        },
      })
    callCounter('grpc_server_started_total', 'Total number of RPCs started on the server.', (c) => c.started)
    callCounter('grpc_server_msg_received_total', 'Total number of RPC stream messages received on the server.', (c) => c.received)
    callCounter('grpc_server_msg_sent_total', 'Total number of gRPC stream messages sent by the server.', (c) => c.sent)
    new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: ['grpc_code', 'grpc_method', 'grpc_service', 'grpc_type'],
      registers,
      collect() {
        this.reset()
        for (const c of calls) {
          for (let code = 0; code < GRPC_CODES.length; code++) {
            const n = c.handled[code]!
            if (n > 0 || !c.lazy) this.inc({ grpc_code: GRPC_CODES[code]!, ...c.labels }, n)
          }
        }
      },
    })
  }

  /** contentType is the Content-Type of render()'s text. */
  get contentType(): string {
    return this.registry.contentType
  }

  render(): Promise<string> {
    return this.registry.metrics()
  }

  /**
   * instrument wraps a service's handlers so that every call is counted: started, each message in and out, and the
   * status it ends with. The gateway drives the same wrapped handlers, so its calls count too, as in etcd, where the
   * gateway is a gRPC client of the server.
   */
  instrument(service: ServiceName, impl: UntypedServiceImplementation): UntypedServiceImplementation {
    const out: UntypedServiceImplementation = {}
    for (const [name, handler] of Object.entries(impl)) {
      const counts = this.#calls.get(`${service}/${name}`)
      if (counts === undefined) {
        out[name] = handler
        continue
      }
      out[name] =
        counts.type === 'unary'
          ? countUnary(counts, handler as UnaryFn)
          : countStream(counts, handler as StreamFn, CANCELED_AS[`${service}/${name}`] ?? 1)
    }
    return out
  }
}

type Callback = (err: { code?: number } | null, value?: unknown) => void
type UnaryFn = (call: unknown, callback: Callback) => void
type StreamFn = (call: StreamCall) => void

interface StreamCall {
  on(event: string, listener: (...args: unknown[]) => void): unknown
  write(...args: unknown[]): boolean
  end(...args: unknown[]): void
  emit(event: string | symbol, ...args: unknown[]): boolean
}

function countUnary(counts: MethodCounts, handler: UnaryFn): UnaryFn {
  return (call, callback) => {
    counts.started++
    counts.received++
    handler(call, (err, value) => {
      if (err === null) {
        counts.sent++
        counts.handled[0]!++
      } else {
        counts.handled[err.code ?? 2]!++
      }
      callback(err, value)
    })
  }
}

/**
 * CANCELED_AS: the code a stream that its caller canceled is counted with, where etcd does not count it as Canceled.
 * etcd's election Observe returns the bare context error, which gRPC reports as Unknown.
 */
const CANCELED_AS: Record<string, number> = { 'v3electionpb.Election/Observe': 2 }

function countStream(counts: MethodCounts, handler: StreamFn, canceledCode: number): StreamFn {
  return (call) => {
    counts.started++
    let done = false
    const finish = (code: number) => {
      if (done) return
      done = true
      counts.handled[code]!++
    }
    if (counts.type !== 'server_stream') call.on('data', () => counts.received++)
    else counts.received++
    const write = call.write
    call.write = function (...args: unknown[]) {
      counts.sent++
      return write.apply(this, args)
    }
    const end = call.end
    call.end = function (...args: unknown[]) {
      finish(0)
      return end.apply(this, args)
    }
    const emit = call.emit
    call.emit = function (event: string | symbol, ...args: unknown[]) {
      if (event === 'error') finish((args[0] as { code?: number } | undefined)?.code ?? 2)
      return emit.call(this, event, ...args)
    }
    call.on('cancelled', () => finish(canceledCode))
    handler(call)
  }
}
