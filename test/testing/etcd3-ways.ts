import { Etcd3 } from 'etcd3'
import type { Clock, FakeEtcd } from '../../src/testing/index.ts'

/**
 * The two ways an etcd3 client reaches a fake, which the testing kit's etcd3 tests run both: over the socket
 * (`hosts: fake.endpoint`), and through etcd3's `client.mock()` with `fake.etcd3Mock()`, in process.
 */
export interface Etcd3Way {
  readonly way: 'over the socket' | 'through the etcd3 mock'
  /** socket: the client talks to the fake over its port (what etcdctl, the gateway and real etcd need too). */
  readonly socket: boolean
  /** client makes a new client of `fake` this way, signed in as `auth`'s user when given. */
  client(fake: FakeEtcd<Clock>, auth?: { username: string; password: string }): Etcd3
}

export const ETCD3_WAYS: readonly Etcd3Way[] = [
  { way: 'over the socket', socket: true, client: (fake, auth) => new Etcd3({ hosts: fake.endpoint, ...(auth && { auth }) }) },
  {
    way: 'through the etcd3 mock',
    socket: false,
    client(fake, auth) {
      const client = new Etcd3()
      const mock = fake.etcd3Mock(auth && { auth })
      client.mock(mock)
      // Closing an etcd3 client closes its pool, not its mock: a test's client.close() closes both, as over a socket.
      const close = client.close.bind(client)
      client.close = () => {
        close()
        mock.close()
      }
      return client
    },
  },
]
