import { Etcd3 } from 'etcd3'
import { contest, drive, label, quick, Timer, type Result } from './lib.ts'
import { build } from './subject.ts'

/**
 * bench/etcd3-mock: one etcd3 client's puts against a fakeEtcd(), over the socket (`hosts: fake.endpoint`) and
 * through `client.mock(fake.etcd3Mock())` (in process, no socket), and through `etcd3Mock(engine)` (no tap: no fault
 * rules, no recording), side by side in rounds that alternate. Each put is awaited before the next (one in flight),
 * as a test's code under test mostly puts; then 64 in flight. Target: the mock >= 3x the socket for the same put.
 */
type Testing = typeof import('../src/testing/index.ts')

/** testing loads etcdlite/testing from the build under test (dist/ or the sources). */
async function loadTesting(): Promise<Testing> {
  const spec = build === 'dist' ? '../dist/testing/index.js' : '../src/testing/index.ts'
  return (await import(spec)) as Testing
}

export async function benchEtcd3Mock(): Promise<Result[]> {
  const { fakeEtcd, etcd3Mock } = await loadTesting()
  const fake = await fakeEtcd()
  const socket = new Etcd3({ hosts: fake.endpoint })
  const mocked = new Etcd3()
  const mock = fake.etcd3Mock()
  mocked.mock(mock)
  const bare = new Etcd3()
  const bareMock = etcd3Mock(fake.engine)
  bare.mock(bareMock)
  const value = 'v'.repeat(64)
  const results: Result[] = []
  try {
    for (const inFlight of [1, 64]) {
      const n = quick ? 2_000 : 10_000
      const caseName = `etcd3 put, ${inFlight} in flight, ${label(n)} puts`
      const round = (client: Etcd3) => async (timer: Timer, warm: boolean) => {
        fake.requests.clear()
        const prefix = warm ? 'warm/' : 'k/'
        await drive(timer, n, (i) => client.put(`${prefix}${i % 1000}`).value(value).exec(), { inFlight })
      }
      results.push(
        ...(await contest(
          caseName,
          [
            { system: 'etcd3 over the socket (fakeEtcd)', round: round(socket) },
            { system: 'etcd3 through fake.etcd3Mock()', round: round(mocked) },
            { system: 'etcd3 through etcd3Mock(engine)', round: round(bare) },
          ],
          quick ? 3 : 5,
        )),
      )
    }
  } finally {
    socket.close()
    mocked.close()
    mock.close()
    bare.close()
    bareMock.close()
    await fake.close()
  }
  return results
}
