import type { CompareOp, DeleteOp, Op, PutOp, RangeOp, TxnOp } from './requests.ts'

/**
 * Request size as etcd measures it for its request limit (--max-request-bytes, 1.5 MiB by default): the length of
 * the protobuf encoding of the internal raft request that carries a write, which is the request itself plus a small
 * header holding the request id. We compute the same encoded length from the parsed request, without encoding it.
 */

/** RAFT_HEADER_BYTES: the internal request's header field (tag 100, a request id of up to 9 varint bytes). */
const RAFT_HEADER_BYTES = 13

/** raftRequestSize is the encoded size of a write request wrapped as etcd wraps it for raft. */
export function raftRequestSize(op: PutOp | DeleteOp | TxnOp): number {
  return RAFT_HEADER_BYTES + field(1, opSize(op))
}

function opSize(op: Op): number {
  switch (op.kind) {
    case 'range':
      return rangeSize(op)
    case 'put':
      return putSize(op)
    case 'delete':
      return bytesField(op.key) + bytesField(op.end) + boolField(op.prevKv)
    case 'txn':
      return txnSize(op)
  }
}

function rangeSize(op: RangeOp): number {
  return (
    bytesField(op.key) +
    bytesField(op.end) +
    intField(op.limit) +
    intField(op.revision) +
    (op.sortOrder === 'NONE' ? 0 : 2) +
    (op.sortTarget === 'KEY' ? 0 : 2) +
    boolField(op.keysOnly) +
    boolField(op.countOnly) +
    intField(op.minModRevision) +
    intField(op.maxModRevision) +
    intField(op.minCreateRevision) +
    intField(op.maxCreateRevision)
  )
}

function putSize(op: PutOp): number {
  return (
    bytesField(op.key) +
    bytesField(op.value) +
    intField(op.lease) +
    boolField(op.prevKv) +
    boolField(op.ignoreValue) +
    boolField(op.ignoreLease)
  )
}

function txnSize(op: TxnOp): number {
  let size = 0
  for (let i = 0; i < op.compares.length; i++) size += field(1, compareSize(op.compares[i]!))
  // Each RequestOp wraps its request in a one-field message.
  for (let i = 0; i < op.success.length; i++) size += field(1, field(1, opSize(op.success[i]!)))
  for (let i = 0; i < op.failure.length; i++) size += field(1, field(1, opSize(op.failure[i]!)))
  return size
}

function compareSize(c: CompareOp): number {
  const operand = typeof c.operand === 'string' ? bytesField(c.operand) || 2 : intField(c.operand) || 2
  return 2 + 2 + bytesField(c.key) + bytesField(c.end) + operand
}

function bytesField(bin: string): number {
  return bin.length === 0 ? 0 : field(1, bin.length)
}

function boolField(b: boolean): number {
  return b ? 2 : 0
}

function intField(n: number | bigint): number {
  return n === 0 || n === 0n ? 0 : 1 + varintSize(n)
}

/** field is the size of a length-delimited field with a one-byte tag around `length` bytes of payload. */
function field(tagBytes: number, length: number): number {
  return tagBytes + varintSize(length) + length
}

function varintSize(n: number | bigint): number {
  if (typeof n === 'number' && n >= 0) {
    // Compared against powers of 128 rather than divided, so no intermediate double is made.
    let size = 1
    for (let limit = 0x80; n >= limit && size < 10; limit *= 0x80) size++
    return size
  }
  let v = BigInt.asUintN(64, BigInt(n))
  let size = 1
  while (v >= 0x80n) {
    v >>= 7n
    size++
  }
  return size
}
