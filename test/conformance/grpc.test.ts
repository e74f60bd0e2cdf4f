import { ManualClock } from '../../src/util/clock.ts'
import { connect } from '../../src/remote/connect.ts'
import { serve } from '../../src/server/serve.ts'
import type { Harness, Target } from './harness.ts'
import { registerAll } from './suite.ts'

/**
 * The conformance suite through the gRPC server: each target is a fresh in-memory `serve({ port: 0 })`, driven by
 * the client-level API of the remote backend, `connect()` (a grpc-js client with the server's own codec). Every request and
 * answer crosses the wire, so this checks the codec, the status mapping and the stream bridging against the same
 * expectations as the engine in process.
 */
const grpc: Harness = {
  name: 'grpc',
  open: async (): Promise<Target> => {
    const clock = new ManualClock()
    const server = await serve({ port: 0, clock })
    // The test's clock drives the server, and the client's keepAlive() renewals too.
    const remote = await connect({ endpoints: [server.endpoint], clock })
    const closeRemote = remote.close.bind(remote)
    const others: { close(): Promise<void> }[] = []
    return Object.assign(remote, {
      clock,
      close: async () => {
        for (const o of others) await o.close()
        await closeRemote()
        await server.close()
      },
      signIn: async (user: string, password: string) => {
        const other = await connect({ endpoints: [server.endpoint], clock, user, password })
        others.push(other)
        return other
      },
    })
  },
  supports: { engineOnly: false, manualClock: true },
}

registerAll(grpc)
