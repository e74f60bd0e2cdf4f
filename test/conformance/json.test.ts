import { Client } from '../../src/api/client.ts'
import { ManualClock } from '../../src/util/clock.ts'
import { serve } from '../../src/server/serve.ts'
import { jsonServices } from '../support/json-services.ts'
import type { Harness, Target } from './harness.ts'
import { registerAll } from './suite.ts'

/**
 * The conformance suite through the JSON gateway: each target is a fresh in-memory `serve({ port: 0 })`, driven by
 * the client-level API over HTTP/1.1 JSON (test/support/json-services.ts). Unary calls are fetch() POSTs; watches and
 * keepalives are chunked POSTs whose bodies stay open, one JSON request per line. Every request and answer is etcd's
 * gateway JSON, so this checks the JSON codec, the routes, the error bodies and the streamed responses against the
 * same expectations as every other target.
 */
const json: Harness = {
  name: 'json',
  open: async (): Promise<Target> => {
    const clock = new ManualClock()
    const server = await serve({ port: 0, clock })
    const services = jsonServices(`http://${server.endpoint}`)
    const client = new Client(services, clock)
    const others: { close(): void }[] = []
    return Object.assign(client, {
      clock,
      close: async () => {
        for (const o of others) o.close()
        services.close()
        await server.close()
      },
      signIn: async (user: string, password: string) => {
        const other = jsonServices(`http://${server.endpoint}`)
        others.push(other)
        return new Client(other, clock, { user, password })
      },
    })
  },
  supports: { engineOnly: false, manualClock: true },
}

registerAll(json)
