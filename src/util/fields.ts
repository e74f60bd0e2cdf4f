/** Field checks shared by every request parser: numbers, lease ids. A wrong type is a programming mistake. */

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** leaseId normalises a lease id to a bigint int64; absent is 0n (no lease). */
export function leaseId(value: bigint | number | undefined | null, what: string): bigint {
  if (value === undefined || value === null) return 0n
  if (typeof value === 'bigint') {
    if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`${what} ${value} is not an int64`)
    return value
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value)
  throw new TypeError(`${what} must be a bigint or a safe integer, got ${String(value)}`)
}

/** int checks an optional integer field; absent is 0. */
export function int(value: number | undefined | null, what: string): number {
  if (value === undefined || value === null) return 0
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value
  throw new TypeError(`${what} must be a safe integer, got ${String(value)}`)
}
