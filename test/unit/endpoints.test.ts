import { credentials } from '@grpc/grpc-js'
import { describe, expect, test } from 'vitest'
import { Endpoints } from '../../src/remote/endpoints.ts'

/**
 * Endpoints' choice of where the next call goes (connect()'s failover), without connections: failures are reported
 * with the endpoint the call or stream was on, and a member seen down is passed over while another is not.
 */
function endpoints(n: number): Endpoints {
  return new Endpoints(
    Array.from({ length: n }, (_, i) => `127.0.0.1:${2379 + i}`),
    { credentials: credentials.createInsecure() },
  )
}

describe('Endpoints', () => {
  test('a failure of the endpoint in use moves calls to the next one', () => {
    const e = endpoints(3)
    e.failed(0)
    expect(e.current).toBe(1)
  })

  test('a failure reported for an endpoint no longer in use leaves the choice alone', () => {
    const e = endpoints(3)
    e.failed(0) // a write saw member 0 die: calls move to 1
    e.failed(0) // then the watch stream that was on member 0 breaks
    e.failed(0) // and the keepalive stream that was on it
    expect(e.current).toBe(1)
  })

  test('moving on skips an endpoint seen down lately, so a healthy one is used while one is known', () => {
    const e = endpoints(3)
    e.failed(0)
    expect(e.current).toBe(1)
    e.failed(1) // member 1 fails too: 2 is next; 0 is still down
    expect(e.current).toBe(2)
    e.failed(2) // all three were seen down: the next one after all
    expect(e.current).toBe(0)
  })

  test('an endpoint that answers again is chosen again', () => {
    const e = endpoints(3)
    e.failed(0)
    e.answered(0)
    e.failed(1)
    e.failed(2)
    expect(e.current).toBe(0)
  })

  test('with one endpoint, failures keep it', () => {
    const e = endpoints(1)
    e.failed(0)
    expect(e.current).toBe(0)
  })
})
