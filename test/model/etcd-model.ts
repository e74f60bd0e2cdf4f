/**
 * A small, deliberately naive model of etcd's observable KV behaviour: every revision is a full copy of the key
 * space. It shares no code with the engine; the model test runs both side by side and compares every answer.
 * Keys are hex strings of their bytes, so sorting hex strings is byte order.
 */

export interface ModelKv {
  key: string
  value: string
  createRevision: number
  modRevision: number
  version: number
}

export type ModelCompare = {
  key: string
  end?: string
  target: 'VERSION' | 'CREATE' | 'MOD' | 'VALUE'
  result: 'EQUAL' | 'NOT_EQUAL' | 'LESS' | 'GREATER'
  operand: number | string
}

export type ModelOp =
  | { kind: 'put'; key: string; value: string; prevKv: boolean; ignoreValue: boolean }
  | { kind: 'delete'; key: string; end?: string; prevKv: boolean }
  | { kind: 'range'; key: string; end?: string; revision: number; limit: number; sortOrder: 'NONE' | 'ASCEND' | 'DESCEND'; sortTarget: 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE'; keysOnly: boolean; countOnly: boolean }
  | { kind: 'txn'; compares: ModelCompare[]; success: ModelOp[]; failure: ModelOp[] }
  | { kind: 'compact'; revision: number }

export type ModelResult =
  | { error: string }
  | { kind: 'put'; revision: number; prevKv?: ModelKv }
  | { kind: 'delete'; revision: number; deleted: number; prevKvs: ModelKv[] }
  | { kind: 'range'; revision: number; kvs: ModelKv[]; count: number; more: boolean }
  | { kind: 'txn'; revision: number; succeeded: boolean; responses: ModelResult[] }
  | { kind: 'compact'; revision: number }

/** UNBOUNDED marks "every key from key on" (etcd's rangeEnd "\0"), hex-encoded. */
export const UNBOUNDED = '00'

export class EtcdModel {
  /** states[r] is the key space at revision r (states[0] unused). */
  states: Map<string, ModelKv>[] = [new Map(), new Map()]
  /** compacted is -1 before the first compaction: etcd then accepts compacting at 0. */
  compacted = -1

  get rev(): number {
    return this.states.length - 1
  }

  current(): Map<string, ModelKv> {
    return this.states[this.rev]!
  }

  apply(op: ModelOp): ModelResult {
    const ctx: RunContext = { draft: new Map(this.current()), pending: this.rev + 1, changed: false }
    try {
      if (op.kind === 'compact') return this.#compact(op.revision)
      if (op.kind === 'txn') this.#checkTxn(op)
      const result = this.#run(op, ctx)
      if (ctx.changed) this.states.push(ctx.draft)
      return { ...result, revision: this.rev } as ModelResult
    } catch (err) {
      if (err instanceof ModelError) return { error: err.code }
      throw err
    }
  }

  #compact(revision: number): ModelResult {
    if (revision <= this.compacted) throw new ModelError('ETCD_COMPACTED')
    if (revision > this.rev) throw new ModelError('ETCD_FUTURE_REV')
    this.compacted = revision
    return { kind: 'compact', revision: this.rev }
  }

  #inRange(k: string, key: string, end: string | undefined): boolean {
    if (end === undefined) return k === key
    if (end === UNBOUNDED) return k >= key
    return k >= key && k < end
  }

  /**
   * #checkTxn is etcd 3.4's duplicate-key rule (observed): in a list, a put may not hit a key put before or covered
   * by a delete of the list itself, of a nested txn met earlier in the list; nested txns are visited in order, and the
   * list's own puts last. "From key on" deletes cover nothing. Both branches of a nested txn may put the same key.
   */
  #checkTxn(op: Extract<ModelOp, { kind: 'txn' }>): void {
    const covers = (dels: { key: string; end?: string }[], k: string) =>
      dels.some((d) => d.end !== UNBOUNDED && this.#inRange(k, d.key, d.end))
    const writes = (ops: ModelOp[]): { puts: Set<string>; dels: { key: string; end?: string }[] } => {
      const dels: { key: string; end?: string }[] = ops.flatMap((o) => (o.kind === 'delete' ? [{ key: o.key, end: o.end }] : []))
      const puts = new Set<string>()
      for (const o of ops) {
        if (o.kind !== 'txn') continue
        const s = writes(o.success)
        const f = writes(o.failure)
        for (const k of s.puts) {
          if (puts.has(k) || covers(dels, k)) throw new ModelError('ETCD_DUPLICATE_KEY')
          puts.add(k)
        }
        for (const k of f.puts) {
          if ((puts.has(k) && !s.puts.has(k)) || covers(dels, k)) throw new ModelError('ETCD_DUPLICATE_KEY')
          puts.add(k)
        }
        dels.push(...s.dels, ...f.dels)
      }
      for (const o of ops) {
        if (o.kind !== 'put') continue
        if (puts.has(o.key) || covers(dels, o.key)) throw new ModelError('ETCD_DUPLICATE_KEY')
        puts.add(o.key)
      }
      return { puts, dels }
    }
    writes(op.success)
    writes(op.failure)
  }

  #compareHolds(c: ModelCompare, state: Map<string, ModelKv>): boolean {
    const kvs = [...state.values()].filter((kv) => this.#inRange(kv.key, c.key, c.end))
    if (kvs.length === 0) {
      if (c.target === 'VALUE') return false
      return this.#cmp(c, 0)
    }
    return kvs.every((kv) =>
      this.#cmp(c, c.target === 'VALUE' ? kv.value : c.target === 'VERSION' ? kv.version : c.target === 'CREATE' ? kv.createRevision : kv.modRevision),
    )
  }

  #cmp(c: ModelCompare, actual: number | string): boolean {
    const a = actual
    const b = c.operand
    switch (c.result) {
      case 'EQUAL':
        return a === b
      case 'NOT_EQUAL':
        return a !== b
      case 'LESS':
        return a < b
      case 'GREATER':
        return a > b
    }
  }

  /** #choose evaluates every compare on the path against the state before the txn, as etcd 3.4 does. */
  #choose(op: Extract<ModelOp, { kind: 'txn' }>, before: Map<string, ModelKv>, path: boolean[]): void {
    const ok = op.compares.every((c) => this.#compareHolds(c, before))
    path.push(ok)
    for (const o of ok ? op.success : op.failure) if (o.kind === 'txn') this.#choose(o, before, path)
  }

  /** #run applies one op to the draft; the response's revision is the view's revision right after it. */
  #run(op: ModelOp, ctx: RunContext, path?: boolean[]): ModelResult {
    const { draft, pending } = ctx
    const viewRev = () => (ctx.changed ? pending : this.rev)
    switch (op.kind) {
      case 'put': {
        const prev = draft.get(op.key)
        if (op.ignoreValue && prev === undefined) throw new ModelError('ETCD_KEY_NOT_FOUND')
        const value = op.ignoreValue ? prev!.value : op.value
        draft.set(op.key, {
          key: op.key,
          value,
          createRevision: prev?.createRevision ?? pending,
          modRevision: pending,
          version: (prev?.version ?? 0) + 1,
        })
        ctx.changed = true
        return { kind: 'put', revision: viewRev(), ...(op.prevKv && prev ? { prevKv: prev } : {}) }
      }
      case 'delete': {
        const gone = [...draft.values()].filter((kv) => this.#inRange(kv.key, op.key, op.end)).sort(byKey)
        for (const kv of gone) draft.delete(kv.key)
        if (gone.length > 0) ctx.changed = true
        return { kind: 'delete', revision: viewRev(), deleted: gone.length, prevKvs: op.prevKv ? gone : [] }
      }
      case 'range': {
        const at = viewRev()
        let rev = op.revision
        if (rev > at) throw new ModelError('ETCD_FUTURE_REV')
        if (rev <= 0) rev = at
        if (rev < this.compacted) throw new ModelError('ETCD_COMPACTED')
        const state = rev === at ? draft : this.states[rev]!
        let kvs = [...state.values()].filter((kv) => this.#inRange(kv.key, op.key, op.end)).sort(byKey)
        const count = kvs.length
        if (op.countOnly) kvs = []
        const order = op.sortOrder === 'NONE' && op.sortTarget !== 'KEY' ? 'ASCEND' : op.sortOrder
        if (order !== 'NONE') {
          const f = (kv: ModelKv) => (op.sortTarget === 'KEY' ? kv.key : op.sortTarget === 'VALUE' ? kv.value : op.sortTarget === 'VERSION' ? kv.version : op.sortTarget === 'CREATE' ? kv.createRevision : kv.modRevision)
          kvs = [...kvs].sort((a, b) => {
            const c = f(a) < f(b) ? -1 : f(a) > f(b) ? 1 : 0
            return order === 'ASCEND' ? c : -c
          })
        }
        let more = false
        if (op.limit > 0 && kvs.length > op.limit) {
          kvs = kvs.slice(0, op.limit)
          more = true
        }
        if (op.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: '' }))
        return { kind: 'range', revision: at, kvs, count, more }
      }
      case 'txn': {
        const before = new Map(draft)
        const p = path ?? []
        if (path === undefined) {
          this.#choose(op, before, p)
          // All of the path's puts with ignoreValue need their key before the txn; ranges need a valid revision.
          this.#checkPath(op, p.slice(), before)
        }
        const ok = p.shift()!
        const responses = (ok ? op.success : op.failure).map((o) => this.#run(o, ctx, p))
        // A nested txn's header is empty in etcd: revision 0.
        return { kind: 'txn', revision: 0, succeeded: ok, responses }
      }
      case 'compact':
        throw new Error('compact inside a txn')
    }
  }

  #checkPath(op: Extract<ModelOp, { kind: 'txn' }>, path: boolean[], before: Map<string, ModelKv>): void {
    const walk = (t: Extract<ModelOp, { kind: 'txn' }>, visit: (o: ModelOp) => void): void => {
      const ok = path.shift()!
      for (const o of ok ? t.success : t.failure) if (o.kind === 'txn') walk(o, visit); else visit(o)
    }
    const saved = path.slice()
    walk(op, (o) => {
      if (o.kind === 'put' && o.ignoreValue && !before.has(o.key)) throw new ModelError('ETCD_KEY_NOT_FOUND')
    })
    path.splice(0, path.length, ...saved)
    walk(op, (o) => {
      if (o.kind === 'range' && o.revision !== 0) {
        if (o.revision > this.rev) throw new ModelError('ETCD_FUTURE_REV')
        if (o.revision < this.compacted) throw new ModelError('ETCD_COMPACTED')
      }
    })
  }
}

interface RunContext {
  draft: Map<string, ModelKv>
  pending: number
  changed: boolean
}

class ModelError extends Error {
  constructor(readonly code: string) {
    super(code)
  }
}

function byKey(a: ModelKv, b: ModelKv): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0
}
