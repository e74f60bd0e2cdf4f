/**
 * AsyncQueue hands values from a producer to one `for await` consumer. `end()` finishes the iteration after the
 * queued values; `fail(err)` makes the consumer's next step throw. Breaking out of the loop calls `onReturn`.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  readonly #values: T[] = []
  #waiting: ((r: IteratorResult<T>) => void) | undefined
  #rejectWaiting: ((err: unknown) => void) | undefined
  #ended = false
  #error: unknown
  #onReturn: (() => void) | undefined

  constructor(onReturn?: () => void) {
    this.#onReturn = onReturn
  }

  /** length is the number of values queued and not yet taken. */
  get length(): number {
    return this.#values.length
  }

  get ended(): boolean {
    return this.#ended
  }

  push(value: T): void {
    if (this.#ended) return
    const waiting = this.#waiting
    if (waiting !== undefined) {
      this.#waiting = undefined
      this.#rejectWaiting = undefined
      waiting({ value, done: false })
    } else {
      this.#values.push(value)
    }
  }

  end(): void {
    if (this.#ended) return
    this.#ended = true
    const waiting = this.#waiting
    if (waiting !== undefined && this.#values.length === 0) {
      this.#waiting = undefined
      this.#rejectWaiting = undefined
      waiting({ value: undefined, done: true })
    }
  }

  fail(err: unknown): void {
    if (this.#ended) return
    this.#error = err
    this.#ended = true
    const reject = this.#rejectWaiting
    if (reject !== undefined) {
      this.#waiting = undefined
      this.#rejectWaiting = undefined
      reject(err)
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#values.length > 0) return Promise.resolve({ value: this.#values.shift()!, done: false })
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
    this.#values.length = 0
    this.end()
    const onReturn = this.#onReturn
    this.#onReturn = undefined
    onReturn?.()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }
}
