import type { Services } from '../api/services.ts'
import type { CallCredentials } from '../messages/auth.ts'
import { emptyRequest } from '../wire/codec-streams.ts'
import { rpcTable } from '../wire/rpc-table.ts'
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

/** CLIENT_GROUPS: the services-level objects a remote client offers (the lock and election services are the server's). */
const CLIENT_GROUPS = ['kv', 'lease', 'watch', 'maintenance', 'cluster', 'auth'] as const

/**
 * servicesOver implements the services level over a transport, from the RPC table: each row with an engine call on
 * one of the client's objects becomes that method, with the row's codecs (the server's own).
 */
export function servicesOver(conn: Transport): RemoteServices {
  const groups: Record<string, Record<string, unknown>> = Object.fromEntries(CLIENT_GROUPS.map((g) => [g, {}]))
  for (const row of rpcTable().values()) {
    const group = row.engine === undefined ? undefined : groups[row.engine.group]
    if (group === undefined) continue
    const { proto: m, request: req, response: res } = row
    if (row.kind === 'bidi') {
      group[row.engine!.method] = (credentials?: CallCredentials) => conn.stream(m, req, res, credentials)
    } else if (req === emptyRequest) {
      // Requests without fields may be left out, as the engine's methods allow.
      group[row.engine!.method] = (request: unknown = {}, credentials?: CallCredentials) => conn.unary(m, req, res, request, credentials)
    } else {
      group[row.engine!.method] = (request: unknown, credentials?: CallCredentials) => conn.unary(m, req, res, request, credentials)
    }
  }
  return { ...(groups as unknown as Services), close: () => conn.close() }
}

