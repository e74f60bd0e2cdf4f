import type { WatchResponse } from '../messages/watch.ts'
import type { Watcher } from './watcher.ts'

/** FIRST: a new queue's capacity (in pairs): most streams never hold more than their created response. */
const FIRST = 2

/** SMALL: a queue's capacity (in pairs) kept when it empties; above it, an empty queue gives its array back. */
const SMALL = 64

/**
 * ResponseQueue is a watch stream's queue of responses, each with the watcher it counts against (undefined for
 * stream-level responses: created, canceled, progress answers). A ring buffer of pairs over one array whose
 * capacity doubles as needed, so queueing and taking a response allocate nothing in the steady state. It starts
 * small: a thousand idle streams, or streams whose reader takes each response as it is sent, stay compact.
 */
export class ResponseQueue {
  /** #slots holds the pairs at 2 * ((#head + i) & (capacity - 1)); capacity is a power of two. */
  #slots: (WatchResponse | Watcher | undefined)[] = new Array<undefined>(2 * FIRST).fill(undefined)
  #head = 0
  #size = 0

  get size(): number {
    return this.#size
  }

  push(response: WatchResponse, watcher: Watcher | undefined): void {
    let capacity = this.#slots.length >> 1
    if (this.#size === capacity) {
      this.#grow(capacity * 2)
      capacity *= 2
    }
    const at = 2 * ((this.#head + this.#size) & (capacity - 1))
    this.#slots[at] = response
    this.#slots[at + 1] = watcher
    this.#size++
  }

  /** peekWatcher is the watcher of the oldest pair (call only when size > 0). */
  peekWatcher(): Watcher | undefined {
    return this.#slots[2 * this.#head + 1] as Watcher | undefined
  }

  /** shift takes the oldest pair's response (call only when size > 0); read its watcher first with peekWatcher. */
  shift(): WatchResponse {
    const at = 2 * this.#head
    const response = this.#slots[at] as WatchResponse
    this.#slots[at] = this.#slots[at + 1] = undefined
    this.#head = (this.#head + 1) & ((this.#slots.length >> 1) - 1)
    if (--this.#size === 0) {
      this.#head = 0
      if (this.#slots.length > 2 * SMALL) this.#slots = new Array<undefined>(2 * SMALL).fill(undefined)
    }
    return response
  }

  clear(): void {
    this.#slots = new Array<undefined>(2 * FIRST).fill(undefined)
    this.#head = 0
    this.#size = 0
  }

  #grow(capacity: number): void {
    const old = this.#slots
    const oldCapacity = old.length >> 1
    const slots = new Array<WatchResponse | Watcher | undefined>(2 * capacity).fill(undefined)
    for (let i = 0; i < this.#size; i++) {
      const from = 2 * ((this.#head + i) & (oldCapacity - 1))
      slots[2 * i] = old[from]
      slots[2 * i + 1] = old[from + 1]
    }
    this.#slots = slots
    this.#head = 0
  }
}
