/**
 * Clock is where the engine reads time and sets timers: the lessor's expiry and the watch hub's progress
 * notifications. Tests hand in a ManualClock and move time themselves; nothing in the engine sleeps.
 */
export interface Clock {
  /** now is the current time in milliseconds. */
  now(): number
  /** setTimer calls `fn` once after `ms` milliseconds. Timers never keep the process alive. */
  setTimer(fn: () => void | Promise<void>, ms: number): Timer
  clearTimer(timer: Timer): void
}

export interface Timer {
  readonly __timer: true
}

/** systemClock is real time, with unref()ed timers so an embedded engine never keeps a process alive. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer(fn, ms) {
    const handle: { t: NodeJS.Timeout | undefined } = { t: undefined }
    // Node fires timers longer than 2^31-1 ms at once; wait in steps instead (a lease may live 9e9 s).
    const arm = (left: number) => {
      const step = Math.min(Math.max(0, left), MAX_TIMER_MS)
      handle.t = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : void fn()), step)
      handle.t.unref()
    }
    arm(ms)
    return handle as unknown as Timer
  },
  clearTimer(timer) {
    clearTimeout((timer as unknown as { t: NodeJS.Timeout | undefined }).t)
  },
}

/** MAX_TIMER_MS is the longest delay Node's setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1

interface ManualTimer extends Timer {
  at: number
  seq: number
  fn: () => void | Promise<void>
}

/**
 * ManualClock is a clock that moves only when told to: `await clock.advance(ms)` runs, in time order, every timer
 * that falls due, and waits for the work they start (lease revocations included) to finish.
 *
 * @example
 * const clock = new ManualClock()
 * await using etcd = await open({ clock })
 * const { id } = await etcd.grant(5)
 * await etcd.put('k', 'v', { lease: id })
 * await clock.advance(5_000)   // the lease expires; 'k' is gone
 */
export class ManualClock implements Clock {
  #now: number
  #seq = 0
  readonly #timers = new Set<ManualTimer>()

  /** @param start the initial time in milliseconds. @default 0 */
  constructor(start = 0) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimer(fn: () => void | Promise<void>, ms: number): Timer {
    const timer = { __timer: true as const, at: this.#now + Math.max(0, ms), seq: this.#seq++, fn }
    this.#timers.add(timer)
    return timer
  }

  clearTimer(timer: Timer): void {
    this.#timers.delete(timer as ManualTimer)
  }

  /** advance moves time forward by `ms`, running due timers in order and awaiting what they return. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError('advance: ms must be >= 0')
    const target = this.#now + ms
    for (;;) {
      let next: ManualTimer | undefined
      for (const t of this.#timers) {
        if (t.at <= target && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t
      }
      if (next === undefined) break
      this.#timers.delete(next)
      this.#now = Math.max(this.#now, next.at)
      await next.fn()
    }
    this.#now = target
  }

  /** pending is the number of timers set and not yet run (for tests of timer hygiene). */
  get pending(): number {
    return this.#timers.size
  }
}
