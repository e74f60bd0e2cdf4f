import type { Bin } from '../util/bytes.ts'

/**
 * IntervalTree holds [start, end) intervals over byte strings and finds those containing a point: a treap ordered by
 * start, each node knowing the largest end below it. A query costs O(log n + matches) in the expected case.
 * `end` INFINITE stands for "every key from start on".
 */
export const INFINITE: Bin = '\u0100' // above every latin1 byte string

interface Node<V> {
  start: Bin
  end: Bin
  seq: number
  value: V
  priority: number
  maxEnd: Bin
  left: Node<V> | undefined
  right: Node<V> | undefined
}

/** IntervalHandle identifies an inserted interval for removal. */
export interface IntervalHandle {
  readonly start: Bin
  readonly seq: number
}

export class IntervalTree<V> {
  #root: Node<V> | undefined
  #seq = 0
  #size = 0

  get size(): number {
    return this.#size
  }

  insert(start: Bin, end: Bin, value: V): IntervalHandle {
    const node: Node<V> = {
      start,
      end,
      seq: this.#seq++,
      value,
      priority: Math.random(),
      maxEnd: end,
      left: undefined,
      right: undefined,
    }
    this.#root = insertNode(this.#root, node)
    this.#size++
    return { start, seq: node.seq }
  }

  remove(handle: IntervalHandle): void {
    const before = this.#size
    this.#root = removeNode(this.#root, handle, () => this.#size--)
    if (before === this.#size) throw new Error('interval tree: no such interval')
  }

  /** stab appends to `out` the value of every interval with start <= point < end, in start order. */
  stab(point: Bin, out: { push(value: V): void }): void {
    stabNode(this.#root, point, out)
  }
}

function before(a: { start: Bin; seq: number }, b: { start: Bin; seq: number }): boolean {
  return a.start < b.start || (a.start === b.start && a.seq < b.seq)
}

function update<V>(n: Node<V>): Node<V> {
  let m = n.end
  if (n.left !== undefined && n.left.maxEnd > m) m = n.left.maxEnd
  if (n.right !== undefined && n.right.maxEnd > m) m = n.right.maxEnd
  n.maxEnd = m
  return n
}

function rotateRight<V>(n: Node<V>): Node<V> {
  const l = n.left!
  n.left = l.right
  l.right = update(n)
  return update(l)
}

function rotateLeft<V>(n: Node<V>): Node<V> {
  const r = n.right!
  n.right = r.left
  r.left = update(n)
  return update(r)
}

function insertNode<V>(root: Node<V> | undefined, node: Node<V>): Node<V> {
  if (root === undefined) return node
  if (before(node, root)) {
    root.left = insertNode(root.left, node)
    if (root.left.priority > root.priority) return rotateRight(root)
  } else {
    root.right = insertNode(root.right, node)
    if (root.right.priority > root.priority) return rotateLeft(root)
  }
  return update(root)
}

function removeNode<V>(root: Node<V> | undefined, h: IntervalHandle, removed: () => void): Node<V> | undefined {
  if (root === undefined) return undefined
  if (root.seq === h.seq) {
    removed()
    return merge(root.left, root.right)
  }
  if (before(h, root)) root.left = removeNode(root.left, h, removed)
  else root.right = removeNode(root.right, h, removed)
  return update(root)
}

function merge<V>(a: Node<V> | undefined, b: Node<V> | undefined): Node<V> | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  if (a.priority > b.priority) {
    a.right = merge(a.right, b)
    return update(a)
  }
  b.left = merge(a, b.left)
  return update(b)
}

function stabNode<V>(n: Node<V> | undefined, point: Bin, out: { push(value: V): void }): void {
  while (n !== undefined && n.maxEnd > point) {
    stabNode(n.left, point, out)
    if (n.start > point) return
    if (point < n.end) out.push(n.value)
    n = n.right
  }
}
