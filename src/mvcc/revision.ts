/**
 * Revision identifies one change in the store. `main` is the atomic write (a put, a delete, a whole txn, a lease
 * revoke) that made it; `sub` is the change's position inside that write, from 0. The store's revision is the main
 * revision of its last write; a fresh store is at revision 1, as etcd's is.
 */
export interface Revision {
  readonly main: number
  readonly sub: number
}

/** compareRevision orders revisions by main, then sub. */
export function compareRevision(a: Revision, b: Revision): number {
  return a.main !== b.main ? a.main - b.main : a.sub - b.sub
}

/**
 * encodeRevision gives the 17-byte key etcd's backend uses for a revision: 8 bytes big-endian main, '_', 8 bytes
 * big-endian sub. Byte order of the encodings is revision order, so a backend can scan history by key.
 */
export function encodeRevision(rev: Revision): Buffer {
  const buf = Buffer.allocUnsafe(17)
  buf.writeBigUInt64BE(BigInt(rev.main), 0)
  buf[8] = 0x5f
  buf.writeBigUInt64BE(BigInt(rev.sub), 9)
  return buf
}

/** decodeRevision reverses encodeRevision. */
export function decodeRevision(buf: Uint8Array): Revision {
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (view.length < 17 || view[8] !== 0x5f) throw new RangeError('not an encoded revision')
  return { main: Number(view.readBigUInt64BE(0)), sub: Number(view.readBigUInt64BE(9)) }
}
