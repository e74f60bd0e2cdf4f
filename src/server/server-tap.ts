import type { IncomingMessage, ServerResponse } from 'node:http'
import type { UntypedServiceImplementation } from '@grpc/grpc-js'
import type { ServiceName } from '../wire/proto.ts'

/**
 * ServerTap lets code outside the server see and steer every call: the testing kit's fault injection and request
 * recording (etcdlite/testing). It wraps each service's handlers before they are counted by the metrics, so what it
 * answers is counted as etcd would count it, and gRPC and the JSON gateway (which drives the same handlers) both pass
 * through it. A server without a tap has no wrapper at all.
 * @internal
 */
export interface ServerTap {
  /** wrap returns the handlers to serve in place of `impl`, for one service. */
  wrap(service: ServiceName, impl: UntypedServiceImplementation): UntypedServiceImplementation
  /** http answers an HTTP/1.1 request the tap owns (returning true), before the gateway sees it. */
  http?(req: IncomingMessage, res: ServerResponse): boolean
  /**
   * release ends every call the tap holds unanswered (delayed, black-holed): called before the server shuts down and
   * when it replaces its engine, so that neither waits for them.
   */
  release?(): void
  /**
   * refusing tells whether the member plays dead: while it does, each gRPC connection is cut as it arrives, before
   * the server says a word (HTTP/1.1 requests reach `http`, which answers them as it sees fit).
   */
  refusing?(): boolean
  /** attach hands the tap the server's controls, once it listens. */
  attach?(server: TappedServer): void
}

/** TappedServer: what a tap may do to the server it wraps. @internal */
export interface TappedServer {
  /** cutConnections destroys every open gRPC connection, as a member that died. */
  cutConnections(): void
}
