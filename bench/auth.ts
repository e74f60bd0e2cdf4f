import { asciiValue, contest, drive, quick, type Contestant, type Result } from './lib.ts'
import { open, type Engine } from './subject.ts'

/**
 * bench/auth: what permission checks cost. The same reads and writes on an engine with auth off (no check at all:
 * one comparison), and with auth on as root (a token lookup, then the root role skips the check) and as a user
 * whose roles grant 10 and 1,000 ranges (a token lookup and a binary search over the user's merged ranges). Each
 * system is its own in-memory engine holding the same 10k keys; calls go straight to the services level with the
 * caller's token, so the client layer is not measured. Target: auth off costs nothing; a check is O(log n).
 */
const OPS = quick ? 40_000 : 150_000
const KEYS = 10_000

interface Subject {
  readonly system: string
  readonly etcd: Engine
  readonly credentials: { token: string } | undefined
}

const key = (i: number) => `app/${String((i * 7919) % KEYS).padStart(6, '0')}`

async function subject(system: string, auth: 'off' | 'root' | number): Promise<Subject> {
  const etcd = await open()
  const value = asciiValue(256)
  for (let i = 0; i < KEYS; i += 100) {
    const success = Array.from({ length: 100 }, (_, j) => ({ requestPut: { key: key(i + j), value } }))
    await etcd.services.kv.txn({ success })
  }
  if (auth === 'off') return { system, etcd, credentials: undefined }
  const a = etcd.services.auth
  await a.userAdd({ name: 'root', password: 'root' })
  await a.userGrantRole({ user: 'root', role: 'root' })
  if (typeof auth === 'number') {
    await a.roleAdd({ name: 'app' })
    // The grants that matter (all of app/) and others elsewhere, as many as asked.
    await a.roleGrantPermission({ name: 'app', perm: { permType: 'READWRITE', key: 'app/', rangeEnd: 'app0' } })
    for (let g = 1; g < auth; g++) {
      const k = `other/${String(g).padStart(6, '0')}`
      await a.roleGrantPermission({ name: 'app', perm: { permType: g % 3 === 0 ? 'READ' : 'READWRITE', key: k, rangeEnd: `${k}/z` } })
    }
    await a.userAdd({ name: 'user', password: 'user' })
    await a.userGrantRole({ user: 'user', role: 'app' })
  }
  await a.authEnable({})
  const name = auth === 'root' ? 'root' : 'user'
  const { token } = await a.authenticate({ name, password: name })
  return { system, etcd, credentials: { token } }
}

export async function benchAuth(): Promise<Result[]> {
  const subjects = [
    await subject('auth off', 'off'),
    await subject('auth on, root', 'root'),
    await subject('auth on, user with 10 ranges', 10),
    await subject('auth on, user with 1,000 ranges', 1_000),
  ]
  const results: Result[] = []
  try {
    const gets = subjects.map(
      (s): Contestant => ({
        system: s.system,
        round: async (t, warm) => void (await drive(t, warm ? 5_000 : OPS, (i) => s.etcd.services.kv.range({ key: key(i) }, s.credentials))),
      }),
    )
    results.push(...(await contest(`get one key, ${KEYS / 1000}k-key store`, gets, 3)))
    const value = asciiValue(256, 3)
    const puts = subjects.map(
      (s): Contestant => ({
        system: s.system,
        round: async (t, warm) => void (await drive(t, warm ? 5_000 : OPS, (i) => s.etcd.services.kv.put({ key: key(i), value }, s.credentials))),
      }),
    )
    results.push(...(await contest(`put over existing keys, ${KEYS / 1000}k-key store`, puts, 3)))
  } finally {
    for (const s of subjects) await s.etcd.close()
  }
  return results
}
