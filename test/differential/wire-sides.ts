import { Connection } from '../../src/remote/grpc-connection.ts'
import { servicesOver, type RemoteServices } from '../../src/remote/remote-services.ts'
import type { Transport } from '../../src/remote/transport.ts'
import type { Codec } from '../../src/wire/codec.ts'
import type { WireMessage } from '../../src/wire/proto.ts'

/**
 * presentEmptyServices is the services level over gRPC to `endpoint`, as remoteServices is, except that a bytes field
 * a request sets to empty ('' or a zero-length Uint8Array) is sent present and empty on the wire, where the codec
 * leaves it out. That is what protobufjs and hand-built clients send, and etcd 3.4 tells the two apart (a present,
 * empty range_end reads to the end of the keyspace in a Range); the differential test sends both encodings.
 */
export function presentEmptyServices(endpoint: string): RemoteServices {
  const inner = new Connection(endpoint, {})
  const transport: Transport = {
    unary: (m, req, res, request, credentials) => inner.unary(m, keepEmpty(req), res, request, credentials),
    stream: (m, req, res, credentials) => inner.stream(m, keepEmpty(req), res, credentials),
    close: () => inner.close(),
  }
  return servicesOver(transport)
}

function keepEmpty<T>(codec: Codec<T>): Codec<T> {
  return { fromWire: codec.fromWire, toWire: (request) => restoreEmpty(codec.toWire(request), request) }
}

/** BYTES_FIELDS: the bytes fields of the KV and Watch requests (key, range_end, value). */
const BYTES_FIELDS = new Set(['key', 'rangeEnd', 'value'])

/** restoreEmpty puts back, present and empty, every bytes field that `request` sets to empty and `wire` left out. */
function restoreEmpty(wire: WireMessage, request: unknown): WireMessage {
  if (request === null || typeof request !== 'object' || request instanceof Uint8Array) return wire
  if (Array.isArray(request)) {
    const list = wire as unknown as WireMessage[]
    request.forEach((r, i) => list[i] !== undefined && restoreEmpty(list[i]!, r))
    return wire
  }
  for (const [name, value] of Object.entries(request)) {
    const empty = value === '' || (value instanceof Uint8Array && value.length === 0)
    if (empty && BYTES_FIELDS.has(name) && !(name in wire)) wire[name] = Buffer.alloc(0)
    else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && wire[name] !== undefined) {
      restoreEmpty(wire[name] as WireMessage, value)
    }
  }
  return wire
}
