import type { Services } from '../api/services.ts'
import type { CallCredentials } from '../messages/auth.ts'
import { emptyRequest } from '../wire/codec-streams.ts'
import { buildServices } from '../wire/rpc-table.ts'
import { Connection } from './grpc-connection.ts'
import type { RemoteOptions, Transport } from './transport.ts'


/** RemoteServices is the services level over a gRPC connection; close() ends the connection. */
export interface RemoteServices extends Services {
  close(): void
}

/**
 * remoteServices implements the services level (src/api/services.ts) over etcd's v3 gRPC API at `endpoint`
 * (`host:port`), with the same codec the server uses: anything that speaks etcd's API, etcdlite's server or a real
 * etcd, then drives the client-level API unchanged (`new Client(remoteServices(endpoint))`).
 *
 * Errors come back as the engine raises them: etcd's errors as EtcdError, malformed requests as TypeError (checked
 * before sending, as the engine checks them), other failures as GrpcError. After close(), calls reject with
 * ETCD_STOPPED.
 */
export function remoteServices(endpoint: string, options: RemoteOptions = {}): RemoteServices {
  return servicesOver(new Connection(endpoint, options))
}

/**
 * servicesOver implements the services level over a transport, from the RPC table: each row with an engine call on
 * one of the client's objects becomes that method, with the row's codecs (the server's own).
 */
export function servicesOver(conn: Transport): RemoteServices {
  const services = buildServices((row) => {
    const { proto: m, request: req, response: res } = row
    if (row.kind === 'bidi') return (credentials?: CallCredentials) => conn.stream(m, req, res, credentials)
    // Requests without fields may be left out, as the engine's methods allow.
    if (req === emptyRequest) return (request: unknown = {}, credentials?: CallCredentials) => conn.unary(m, req, res, request, credentials)
    return (request: unknown, credentials?: CallCredentials) => conn.unary(m, req, res, request, credentials)
  })
  return { ...services, close: () => conn.close() }
}

