/**
 * FlowControl tells a producer when to pause: `pause` runs once `highWater` values wait unread, and `resume` once
 * the reader has brought them back down to `lowWater`.
 */
export interface FlowControl {
  readonly highWater: number
  readonly lowWater: number
  pause(): void
  resume(): void
}

/**
 * AsyncQueue hands values from a producer to one `for await` consumer: the one async queue of etcdlite (lease
 * keepalive streams, the remote streams and their resilient wrappers). `end()` finishes the iteration after the
 * queued values; `fail(err)` does the same and then makes the consumer's next step throw. Breaking out of the loop
 * (`return()`) drops what is queued and calls `onReturn`. With `flow`, the producer is paused past its high water mark
 * and resumed at its low one, so a slow reader pushes back (on a gRPC call: through HTTP/2 flow control).
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  #values: (T | undefined)[] = []
  #head = 0
  #waiting: ((r: IteratorResult<T>) => void) | undefined
  #rejectWaiting: ((err: unknown) => void) | undefined
  #ended = false
  #error: unknown
  #onReturn: (() => void) | undefined
  readonly #flow: FlowControl | undefined
  #paused = false

  constructor(onReturn?: () => void, flow?: FlowControl) {
    if (flow !== undefined && !(flow.lowWater >= 0 && flow.highWater > flow.lowWater)) {
      throw new RangeError(`flow control needs 0 <= lowWater < highWater, got ${flow.lowWater} and ${flow.highWater}`)
    }
    this.#onReturn = onReturn
    this.#flow = flow
  }

  /** length is the number of values queued and not yet taken. */
  get length(): number {
    return this.#values.length - this.#head
  }

  get ended(): boolean {
    return this.#ended
  }

  /** paused tells whether the producer was told to pause and not yet to resume. */
  get paused(): boolean {
    return this.#paused
  }

  push(value: T): void {
    if (this.#ended) return
    const waiting = this.#waiting
    if (waiting !== undefined) {
      this.#waiting = undefined
      this.#rejectWaiting = undefined
      waiting({ value, done: false })
      return
    }
    this.#values.push(value)
    const flow = this.#flow
    if (flow !== undefined && !this.#paused && this.length >= flow.highWater) {
      this.#paused = true
      flow.pause()
    }
  }

  end(): void {
    if (this.#ended) return
    this.#ended = true
    const waiting = this.#waiting
    if (waiting !== undefined && this.length === 0) {
      this.#waiting = undefined
      this.#rejectWaiting = undefined
      waiting({ value: undefined, done: true })
    }
  }

  /** fail ends the iteration after the queued values with `err` (ignored once ended). */
  fail(err: unknown): void {
    if (this.#ended) return
    this.#error = err
    this.#ended = true
    const reject = this.#rejectWaiting
    if (reject !== undefined) {
      this.#waiting = undefined
      this.#rejectWaiting = undefined
      this.#error = undefined
      reject(err)
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#values.length) return Promise.resolve({ value: this.#take(), done: false })
    if (this.#ended) {
      if (this.#error !== undefined) {
        const err = this.#error
        this.#error = undefined
        return Promise.reject(err)
      }
      return Promise.resolve({ value: undefined, done: true })
    }
    return new Promise((resolve, reject) => {
      this.#waiting = resolve
      this.#rejectWaiting = reject
    })
  }

  return(): Promise<IteratorResult<T>> {
    this.#values = []
    this.#head = 0
    this.end()
    const onReturn = this.#onReturn
    this.#onReturn = undefined
    onReturn?.()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }

  /** take removes the first queued value (by moving a head index: no array shift per value). */
  #take(): T {
    const value = this.#values[this.#head] as T
    this.#values[this.#head++] = undefined
    if (this.#head === this.#values.length) {
      this.#values.length = 0
      this.#head = 0
    }
    const flow = this.#flow
    if (this.#paused && flow !== undefined && this.length <= flow.lowWater) {
      this.#paused = false
      flow.resume()
    }
    return value
  }
}
