import type { Services } from '../api/services.ts'
import { buildServices } from '../wire/rpc-table.ts'

/**
 * currentServices is a services level that forwards every call to `current()`'s, read at the moment of the call. A
 * server hands it to its handlers instead of an engine's own services, so that the engine it serves can be replaced
 * while clients stay connected (`Serving.replaceEngine`): a call reaches whichever engine is served when it arrives.
 * Each call costs one more function call than calling the engine directly. Its methods are the RPC table's.
 */
export function currentServices(current: () => Services): Services {
  type Methods = Record<string, (...args: unknown[]) => unknown>
  return buildServices((row) => {
    const group = row.engine.group as keyof Services
    const method = row.engine.method
    // Streams are opened with the credentials alone; every other call takes (request, credentials).
    if (row.kind === 'bidi') return (credentials: unknown) => (current()[group] as unknown as Methods)[method]!(credentials)
    return (request: unknown, credentials: unknown) => (current()[group] as unknown as Methods)[method]!(request, credentials)
  })
}
