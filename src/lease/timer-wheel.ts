/**
 * ExpiryQueue is what the lessor needs to know when leases expire: schedule a deadline per key (a new one replaces
 * the old), cancel it, and take the keys whose deadline has passed.
 */
export interface ExpiryQueue<K> {
  readonly size: number
  schedule(key: K, deadline: number): void
  cancel(key: K): void
  /** takeExpired removes and returns up to `max` keys whose deadline is at or before `now`. */
  takeExpired(now: number, max: number): K[]
  /** wakeAt is when a timer should next call takeExpired, or undefined when nothing is scheduled. */
  wakeAt(): number | undefined
}

/** Slot holds the entries of one tick, and the earliest of their deadlines (NaN when it must be recomputed). */
interface Slot<K> {
  readonly entries: Set<Entry<K>>
  min: number
}

interface Entry<K> {
  readonly key: K
  readonly deadline: number
  /** slot is the wheel slot holding the entry, or FAR while it waits beyond the wheel's horizon. */
  slot: number
}

const FAR = -1

/** NO_ENTRIES is what a slot never used holds. */
const NO_ENTRIES: ReadonlySet<never> = new Set()

export interface TimerWheelOptions {
  /** tickMs is the time each slot covers. @default 100 */
  tickMs?: number
  /** slots is the number of ticks the wheel spans; later deadlines wait in a heap until they come near. @default 1024 */
  slots?: number
}

/**
 * TimerWheel is a hashed timer wheel. Time is cut into ticks of `tickMs`; a deadline within `slots` ticks of the
 * wheel's cursor goes into the slot of its tick (tick mod slots), so each slot holds the keys of exactly one tick.
 * Deadlines further out wait in a min-heap and move onto the wheel when the cursor comes within reach.
 *
 * Scheduling, rescheduling (a keepalive) and cancelling cost O(1) on the wheel, O(log far) for far deadlines.
 * Nothing runs between deadlines: `wakeAt()` names the earliest deadline (each slot keeps its earliest, recomputed
 * lazily after removals), so one timer armed for it is the only cost of an idle wheel, however many keys it holds.
 */
export class TimerWheel<K> implements ExpiryQueue<K> {
  readonly #tickMs: number
  /** #slots: a slot is made when an entry first lands in it (an engine opened for a test may never hold a lease). */
  readonly #slots: (Slot<K> | undefined)[]
  readonly #entries = new Map<K, Entry<K>>()
  /** #far holds entries beyond the horizon, as a binary min-heap on deadline; replaced entries are skipped lazily. */
  readonly #far: Entry<K>[] = []
  /** #cursor is the first tick not yet drained: every entry of an earlier tick has been taken. */
  #cursor: number
  /** #onWheel counts the entries in slots (not far), so an empty wheel can jump its cursor forward at once. */
  #onWheel = 0

  constructor(now: number, options: TimerWheelOptions = {}) {
    this.#tickMs = options.tickMs ?? 100
    const slots = options.slots ?? 1024
    if (!(this.#tickMs > 0) || !Number.isInteger(slots) || slots < 2) throw new RangeError('invalid timer wheel options')
    this.#slots = new Array<Slot<K> | undefined>(slots).fill(undefined)
    this.#cursor = Math.floor(now / this.#tickMs)
  }

  get size(): number {
    return this.#entries.size
  }

  schedule(key: K, deadline: number): void {
    this.cancel(key)
    const entry: Entry<K> = { key, deadline, slot: FAR }
    this.#entries.set(key, entry)
    this.#place(entry)
  }

  cancel(key: K): void {
    const entry = this.#entries.get(key)
    if (entry === undefined) return
    this.#entries.delete(key)
    if (entry.slot !== FAR) this.#removeFromSlot(this.#slots[entry.slot]!, entry)
    // A far entry stays in the heap; it is recognised as stale when it surfaces.
  }

  takeExpired(now: number, max: number): K[] {
    const out: K[] = []
    const nowTick = Math.floor(now / this.#tickMs)
    const n = this.#slots.length
    // Each pass drains the due ticks within the horizon; moving the cursor brings far entries within reach, so
    // repeat until the cursor stops moving.
    for (;;) {
      this.#pullNear()
      const cursorBefore = this.#cursor
      // Ticks before nowTick are wholly due; nowTick itself only up to `now`.
      const last = Math.min(nowTick, this.#cursor + n - 1)
      for (let tick = this.#cursor; tick <= last; tick++) {
        const slot = this.#slots[tick % n]
        for (const entry of slot?.entries ?? NO_ENTRIES) {
          if (entry.deadline > now) continue
          if (out.length >= max) return out
          this.#removeFromSlot(slot!, entry)
          this.#entries.delete(entry.key)
          out.push(entry.key)
        }
        if (tick < nowTick) this.#cursor = tick + 1
        if (this.#onWheel === 0) break
      }
      // With nothing on the wheel, the ticks up to now hold nothing: skip them in one step.
      if (this.#onWheel === 0 && this.#cursor < nowTick) this.#cursor = nowTick
      if (this.#cursor === cursorBefore) return out
    }
  }

  wakeAt(): number | undefined {
    const n = this.#slots.length
    for (let i = 0; this.#onWheel > 0 && i < n; i++) {
      const slot = this.#slots[(this.#cursor + i) % n]
      if (slot === undefined || slot.entries.size === 0) continue
      if (Number.isNaN(slot.min)) {
        slot.min = Infinity
        for (const e of slot.entries) if (e.deadline < slot.min) slot.min = e.deadline
      }
      return slot.min
    }
    this.#dropStaleFar()
    const first = this.#far[0]
    return first?.deadline
  }

  #place(entry: Entry<K>): void {
    const tick = Math.max(Math.floor(entry.deadline / this.#tickMs), this.#cursor)
    if (tick - this.#cursor < this.#slots.length) {
      entry.slot = tick % this.#slots.length
      const slot = (this.#slots[entry.slot] ??= { entries: new Set<Entry<K>>(), min: Infinity })
      slot.entries.add(entry)
      if (entry.deadline < slot.min) slot.min = entry.deadline
      this.#onWheel++
    } else {
      entry.slot = FAR
      pushHeap(this.#far, entry)
    }
  }

  #removeFromSlot(slot: Slot<K>, entry: Entry<K>): void {
    slot.entries.delete(entry)
    this.#onWheel--
    if (slot.entries.size === 0) slot.min = Infinity
    else if (entry.deadline === slot.min) slot.min = NaN
  }

  /** #pullNear moves far entries whose tick is now within the horizon onto the wheel. */
  #pullNear(): void {
    const heap = this.#far
    const horizon = (this.#cursor + this.#slots.length) * this.#tickMs
    while (heap.length > 0 && heap[0]!.deadline < horizon) {
      const entry = popHeap(heap)
      if (this.#entries.get(entry.key) !== entry || entry.slot !== FAR) continue
      this.#place(entry)
    }
  }

  #dropStaleFar(): void {
    const heap = this.#far
    while (heap.length > 0) {
      const top = heap[0]!
      if (this.#entries.get(top.key) === top && top.slot === FAR) return
      popHeap(heap)
    }
  }
}

function pushHeap<K>(heap: Entry<K>[], entry: Entry<K>): void {
  heap.push(entry)
  let i = heap.length - 1
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.deadline <= entry.deadline) break
    heap[i] = heap[parent]!
    i = parent
  }
  heap[i] = entry
}

function popHeap<K>(heap: Entry<K>[]): Entry<K> {
  const top = heap[0]!
  const last = heap.pop()!
  if (heap.length > 0) {
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let smallest = i
      let value = last.deadline
      if (l < heap.length && heap[l]!.deadline < value) {
        smallest = l
        value = heap[l]!.deadline
      }
      if (r < heap.length && heap[r]!.deadline < value) smallest = r
      if (smallest === i) break
      heap[i] = heap[smallest]!
      i = smallest
    }
    heap[i] = last
  }
  return top
}
