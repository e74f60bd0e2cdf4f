import type { EtcdErrorCode } from '../util/errors.ts'
import { rpcTable, serviceNames, type Rpc } from '../wire/rpc-table.ts'
import { hasPrefix } from './request-keys.ts'

/**
 * Fault rules: what the fake answers instead of the engine, for which calls, how many times. A rule names the calls
 * it matches (`method`: 'KV.Put', a whole service 'Watch', or '*'), optionally a key prefix, and a fault. The server's
 * tap (call-tap.ts) consults the rules as calls and stream messages pass; see FaultRule for what each fault does.
 */

/**
 * FAULT_ERRORS: the errors a fault can answer, each as a real etcd 3.4 member or its network answers it: the gRPC
 * code and text of the EtcdError named (see src/util/errors.ts), or, for 'unavailable' (null), no answer but a cut
 * connection.
 */
export const FAULT_ERRORS: { readonly [K in FaultError]: EtcdErrorCode | null } = {
  /** 'no-leader': UNAVAILABLE "etcdserver: no leader", as while the cluster has lost its leader. */
  'no-leader': 'ETCD_NO_LEADER',
  /** 'timeout': UNAVAILABLE "etcdserver: request timed out", as when a proposal is not committed in time. */
  timeout: 'ETCD_TIMEOUT',
  /** 'leader-changed': UNAVAILABLE "etcdserver: leader changed", as during an election. */
  'leader-changed': 'ETCD_LEADER_CHANGED',
  /** 'too-many-requests': RESOURCE_EXHAUSTED "etcdserver: too many requests", an overloaded member. */
  'too-many-requests': 'ETCD_TOO_MANY_REQUESTS',
  /**
   * 'unavailable': a dead member. The call gets no answer: the fake cuts the connection it came on (every call on that
   * connection ends), and the client's transport reports UNAVAILABLE, as when the member's process is killed (the
   * etcd3 client: GRPCUnavailableError; Go clientv3 and etcdctl: code Unavailable). The client reconnects for its
   * next call; a rule on every call ('*') keeps the member dead until it is removed.
   */
  unavailable: null,
  /** 'stopping': UNAVAILABLE "etcdserver: server stopped", what a member that is shutting down answers. */
  stopping: 'ETCD_STOPPED',
  /** 'permission-denied': "etcdserver: permission denied", as for a request outside the caller's permissions. */
  'permission-denied': 'ETCD_PERMISSION_DENIED',
  /** 'compacted': "mvcc: required revision has been compacted", as for a read or watch of a compacted revision. */
  compacted: 'ETCD_COMPACTED',
}

/** FaultError names an error a fault answers with. */
export type FaultError =
  | 'no-leader'
  | 'timeout'
  | 'leader-changed'
  | 'too-many-requests'
  | 'unavailable'
  | 'stopping'
  | 'permission-denied'
  | 'compacted'

/**
 * Fault is what happens to a matching call:
 * - an error name (FaultError): the call fails as etcd fails it. On a stream, the request that matches ends the
 *   stream with that error; except on Watch, where 'compacted' cancels the matching watcher with a compact revision
 *   (at its creation, or at its next response if it is already open) and 'permission-denied' answers a matching
 *   create as etcd answers a watch outside one's permissions (created and canceled, with etcd's reason).
 * - `{ delayMs }`: the call (on a stream: each matching request) reaches the engine that many real milliseconds
 *   later. Real time, not the fake's clock: the client's deadlines, which a delay is there to test, run on real time.
 * - 'drop': the server ends a stream (Watch, LeaseKeepAlive, Observe, Snapshot) mid-flight with UNAVAILABLE
 *   "etcdserver: server stopped", at the next matching request or response; open streams are dropped when the rule
 *   is added.
 * - 'black-hole': the call (on a stream: each matching request) is accepted and never answered; closing or resetting
 *   the server ends it with UNAVAILABLE "etcdserver: server stopped".
 */
export type Fault = FaultError | 'drop' | 'black-hole' | { readonly delayMs: number }

/** FaultRule is one rule of `fake.faults`. */
export interface FaultRule {
  /** method: 'Service.Method' ('KV.Put', 'Watch.Watch', 'Lease.LeaseKeepAlive'), a service ('Watch', 'KV'), or '*'. */
  readonly method: string
  /** prefix limits the rule to requests naming a key under it (see FaultRule docs in README). @default every call */
  readonly prefix?: string | Uint8Array
  /** times: how many calls (or stream messages) the rule applies to, then it is gone. @default every call */
  readonly times?: number
  readonly fault: Fault
}

/** FaultHandle is an added rule. */
export interface FaultHandle {
  /** id names the rule (the HTTP control's DELETE /etcdlite/faults/{id}). */
  readonly id: number
  /** remove takes the rule away; calls from then on are served normally. Idempotent. */
  remove(): void
}

/** ActiveRule is a rule in force. */
export interface ActiveRule {
  readonly id: number
  readonly rule: FaultRule
  /** remaining applications, Infinity for every call. */
  remaining: number
  readonly prefix: Uint8Array | undefined
  readonly scope: ReadonlySet<string>
}

/** Point is where a rule is consulted: a call arriving, a request on a stream, a response on a stream. */
export type Point = 'call' | 'request' | 'response'

/** kindOf names a fault's kind. */
export function kindOf(fault: Fault): FaultError | 'drop' | 'black-hole' | 'delay' {
  return typeof fault === 'object' ? 'delay' : fault
}

/** WATCH is the one RPC whose watchers a fault can cancel one by one. */
const WATCH = 'Watch.Watch'

/**
 * applicable tells whether an RPC can have a fault at all (what add() checks): 'drop' only streams; the errors not
 * the health check; 'compacted' only reads of a revision (Range, Txn) and Watch.
 */
export function applicable(rpc: Rpc, fault: Fault): boolean {
  const kind = kindOf(fault)
  if (kind === 'delay' || kind === 'black-hole') return true
  if (kind === 'drop') return rpc.kind !== 'unary'
  if (rpc.short === 'Health') return false
  if (kind === 'compacted') return rpc.name === 'KV.Range' || rpc.name === 'KV.Txn' || rpc.name === WATCH
  return true
}

/** validFault checks a fault's shape; it returns a reason when it is not one. */
function faultProblem(fault: unknown): string | undefined {
  if (typeof fault === 'string') {
    if (fault === 'drop' || fault === 'black-hole' || fault in FAULT_ERRORS) return undefined
    return `unknown fault ${JSON.stringify(fault)} (expected one of ${[...Object.keys(FAULT_ERRORS), 'drop', 'black-hole'].join(', ')}, or { delayMs })`
  }
  if (typeof fault === 'object' && fault !== null && Object.keys(fault).length === 1 && 'delayMs' in fault) {
    const ms = (fault as { delayMs: unknown }).delayMs
    return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? undefined : 'delayMs must be a number of milliseconds >= 0'
  }
  return `a fault is a name or { delayMs }, got ${JSON.stringify(fault)}`
}

/**
 * Faults is the set of rules of one fake (`fake.faults`). Rules apply in the order they were added: the first that
 * matches a call applies, and counts one of its `times`. Rules can be added and removed at any time, clients
 * connected or not.
 */
export class Faults {
  #next = 1
  readonly #rules: ActiveRule[] = []
  readonly #onAdd = new Set<(rule: ActiveRule) => void>()

  /**
   * add puts a rule in force and returns its handle. A rule that names no RPC, has a bad count, or a fault none of
   * its RPCs can have (a 'drop' of a unary call, 'compacted' on a Put) is a TypeError, and nothing changes.
   * @example
   * const rule = fake.faults.add({ method: 'KV.Put', fault: 'no-leader', times: 1 })
   * rule.remove()
   */
  add(rule: FaultRule): FaultHandle {
    const active = this.#check(rule)
    this.#rules.push(active)
    for (const fn of [...this.#onAdd]) fn(active)
    return { id: active.id, remove: () => this.remove(active.id) }
  }

  /** remove takes away the rule with this id; it tells whether there was one. */
  remove(id: number): boolean {
    const i = this.#rules.findIndex((r) => r.id === id)
    if (i < 0) return false
    this.#rules.splice(i, 1)
    return true
  }

  /** clear removes every rule. */
  clear(): void {
    this.#rules.length = 0
  }

  /** size is the number of rules in force. */
  get size(): number {
    return this.#rules.length
  }

  /** list shows the rules in force, in order, with how many applications each has left (null: every call). */
  list(): { id: number; rule: FaultRule; remaining: number | null }[] {
    return this.#rules.map((r) => ({ id: r.id, rule: r.rule, remaining: r.remaining === Infinity ? null : r.remaining }))
  }

  /**
   * take finds the first rule for `rpc` whose fault `accepts` (what the point can do) and whose prefix one of the
   * keys has, and counts one application of it.
   * @internal
   */
  take(rpc: Rpc, accepts: (fault: Fault) => boolean, keys: () => readonly Uint8Array[]): ActiveRule | undefined {
    for (const r of this.#rules) {
      if (!r.scope.has(rpc.name) || !accepts(r.rule.fault)) continue
      if (r.prefix !== undefined && !keys().some((k) => hasPrefix(k, r.prefix!))) continue
      if (--r.remaining <= 0) this.remove(r.id)
      return r
    }
    return undefined
  }

  /** onAdd calls `fn` with each rule added, until the returned function is called. @internal */
  onAdd(fn: (rule: ActiveRule) => void): () => void {
    this.#onAdd.add(fn)
    return () => this.#onAdd.delete(fn)
  }

  #check(rule: FaultRule): ActiveRule {
    if (typeof rule !== 'object' || rule === null) throw new TypeError('faults.add: a rule is an object { method, fault, prefix?, times? }')
    const extra = Object.keys(rule).filter((k) => !['method', 'fault', 'prefix', 'times'].includes(k))
    if (extra.length > 0) throw new TypeError(`faults.add: unknown field ${JSON.stringify(extra[0])} in a rule`)
    const problem = faultProblem(rule.fault)
    if (problem !== undefined) throw new TypeError(`faults.add: ${problem}`)
    const { method } = rule
    if (typeof method !== 'string') throw new TypeError("faults.add: method must be 'Service.Method', a service or '*'")
    const all = rpcTable()
    let named: Rpc[]
    if (method === '*') named = [...all.values()]
    else if (serviceNames().has(method)) named = [...all.values()].filter((r) => r.short === method)
    else if (all.has(method)) named = [all.get(method)!]
    else throw new TypeError(`faults.add: unknown method ${JSON.stringify(method)} (expected 'Service.Method' such as 'KV.Put', a service such as 'Watch', or '*')`)
    const scope = new Set(named.filter((r) => applicable(r, rule.fault)).map((r) => r.name))
    if (scope.size === 0) throw new TypeError(`faults.add: ${method} cannot have the fault ${JSON.stringify(rule.fault)}`)
    const times = rule.times ?? Infinity
    if (rule.times !== undefined && (!Number.isSafeInteger(times) || times < 1)) {
      throw new TypeError(`faults.add: times must be a positive integer, got ${String(rule.times)}`)
    }
    let prefix: Uint8Array | undefined
    if (rule.prefix !== undefined) {
      if (typeof rule.prefix === 'string') prefix = Buffer.from(rule.prefix, 'utf8')
      else if (rule.prefix instanceof Uint8Array) prefix = rule.prefix
      else throw new TypeError('faults.add: prefix must be a string or a Uint8Array')
    }
    const copy: FaultRule = { ...rule, fault: typeof rule.fault === 'object' ? { delayMs: rule.fault.delayMs } : rule.fault }
    return { id: this.#next++, rule: copy, remaining: times, prefix, scope }
  }
}
