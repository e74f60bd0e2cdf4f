import { writeSync } from 'node:fs'
import { compare, op, open } from '../../src/index.ts'

/**
 * The writer the crash test kills: it opens the store in argv[2] and writes for ever (puts, two-key txns, lease
 * grants with a key, lease revokes), printing one line per acknowledged write, synchronously, before the next one.
 * The parent kills it with SIGKILL at a random instant and checks every acknowledged write survived.
 */
const dir = process.argv[2]!
const durability = (process.argv[3] ?? 'os') as 'os' | 'fsync'
// Small checkpoints, so kills also land while a checkpoint is written and while it replaces records.
const etcd = await open({ dir, durability, checkpointEvery: 1500 })
const ack = (line: object): void => void writeSync(1, JSON.stringify(line) + "\n")

let i = Number((await etcd.get('counter')).kvs[0]?.value.toString() ?? '0')
ack({ kind: 'open', rev: etcd.revision })
const inFlight = new Set<Promise<void>>()
for (;;) {
  i++
  const n = i
  let p: Promise<void>
  switch (n % 4) {
    case 0:
      p = etcd.put(`k${n % 50}`, `v${n}`).then((r) => ack({ kind: 'put', key: `k${n % 50}`, value: `v${n}`, rev: r.header.revision }))
      break
    case 1:
      p = etcd
        .txn()
        .if(compare.version('counter', '>', -1))
        .then(op.put(`a${n}`, `t${n}`), op.put(`b${n}`, `t${n}`), op.put('counter', String(n)))
        .commit()
        .then((r) => ack({ kind: 'txn', a: `a${n}`, b: `b${n}`, value: `t${n}`, rev: r.header.revision }))
      break
    case 2:
      p = etcd.grant(3600).then(async ({ id }) => {
        const r = await etcd.put(`l${n}`, 'leased', { lease: id })
        ack({ kind: 'lease', key: `l${n}`, id: String(id), rev: r.header.revision })
        const rv = await etcd.revoke(id)
        ack({ kind: 'revoke', key: `l${n}`, id: String(id), rev: rv.header.revision })
      })
      break
    default:
      p = etcd.delete(`k${(n * 7) % 50}`).then((r) => ack({ kind: 'delete', key: `k${(n * 7) % 50}`, rev: r.header.revision }))
  }
  const tracked = p.finally(() => inFlight.delete(tracked))
  inFlight.add(tracked)
  // Up to 16 writes in flight, so batches group several writers.
  if (inFlight.size >= 16) await Promise.race(inFlight)
}
