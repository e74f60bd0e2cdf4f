import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import type { Duplex } from 'node:stream'

/** TlsOptions: etcd's client TLS flags, with the files' PEM contents. */
export interface TlsOptions {
  /** cert is the server certificate chain, PEM (etcd's --cert-file). */
  cert: string | Buffer
  /** key is the server's private key, PEM (etcd's --key-file). */
  key: string | Buffer
  /** ca is the CA bundle that client certificates must chain to, PEM (etcd's --trusted-ca-file). */
  ca?: string | Buffer
  /** clientCertAuth requires every client to present a certificate signed by `ca` (etcd's --client-cert-auth). */
  clientCertAuth?: boolean
}

/** Listener is one client URL to listen on: plaintext or TLS, host and port (0 picks a free one). */
export interface Listener {
  readonly secure: boolean
  readonly host: string
  readonly port: number
}

/**
 * The front door: one listening socket per client URL that takes both of etcd's faces, as etcd's own client port
 * does. gRPC arrives as HTTP/2; the JSON gateway, /health, /version and /metrics as HTTP/1.1. Each accepted
 * connection is handed whole to one of two servers that never listen themselves:
 *
 * - plaintext: the first bytes decide. HTTP/2 opens with a fixed preface ("PRI * HTTP/2.0..."); anything else is
 *   HTTP/1.1. The bytes read to decide are put back before the hand-off.
 * - TLS: ALPN decides. gRPC clients offer only "h2"; curl, browsers and fetch offer "http/1.1" (curl offers both and
 *   gets HTTP/1.1, the gateway's protocol). A client that offers no ALPN is sniffed like plaintext.
 *
 * The gRPC side is Node's HTTP/2 server behind GrpcServer (grpc-server.ts), which never listens itself: every
 * connection it serves comes through here.
 */

/** HTTP2_PREFACE opens every HTTP/2 connection (RFC 9113, 3.4). */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

/** Handoff takes a connection: the gRPC server (HTTP/2) or the HTTP/1.1 server. */
export interface Handoff {
  grpc(connection: Duplex): void
  http(connection: Duplex): void
}

/** FrontDoor is one listening socket. */
export interface FrontDoor {
  readonly port: number
  /** stopAccepting closes the listening socket; connections already accepted go on. */
  stopAccepting(): void
  /** destroyPending ends connections still being sniffed (not yet handed off). */
  destroyPending(): void
}

/** openFrontDoor listens on `listener` and hands each connection off by protocol. */
export function openFrontDoor(listener: Listener, tls: TlsOptions | undefined, handoff: Handoff): Promise<FrontDoor> {
  const pending = new Set<Socket>()
  const sniff = (socket: Socket) => {
    pending.add(socket)
    let seen: Buffer = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk])
      const n = Math.min(seen.length, HTTP2_PREFACE.length)
      const http2 = seen.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n))
      if (http2 && n < HTTP2_PREFACE.length) return // a prefix of the preface: read on
      socket.off('data', onData)
      socket.off('close', onClose)
      pending.delete(socket)
      socket.pause()
      socket.unshift(seen)
      // HTTP/2 reads what is buffered on its own (in the next tick); resuming first would drop it.
      if (http2) handoff.grpc(socket)
      else {
        handoff.http(socket)
        socket.resume()
      }
    }
    const onClose = () => pending.delete(socket)
    socket.on('data', onData)
    socket.on('close', onClose)
  }

  let server: TcpServer
  if (tls === undefined || !listener.secure) {
    server = createTcpServer({ noDelay: true }, sniff)
  } else {
    const clientCertAuth = tls.clientCertAuth === true
    server = createTlsServer(
      {
        cert: tls.cert,
        key: tls.key,
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        requestCert: clientCertAuth,
        rejectUnauthorized: clientCertAuth,
        ALPNCallback: ({ protocols }) => (protocols.includes('http/1.1') ? 'http/1.1' : protocols.includes('h2') ? 'h2' : undefined),
      },
      (socket: TLSSocket) => {
        socket.setNoDelay(true)
        if (socket.alpnProtocol === 'h2') handoff.grpc(socket)
        else if (socket.alpnProtocol === 'http/1.1') handoff.http(socket)
        else sniff(socket)
      },
    )
    // A failed handshake (a client without a certificate, say) ends that connection only.
    server.on('tlsClientError', () => {})
  }
  server.on('error', () => {})

  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`etcdlite: cannot listen on ${hostPort(listener)}: ${err.message}`))
    server.once('error', onError)
    server.listen({ host: listener.host, port: listener.port }, () => {
      server.off('error', onError)
      const address = server.address()
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : listener.port,
        stopAccepting: () => server.close(),
        destroyPending: () => {
          for (const s of pending) s.destroy()
          pending.clear()
        },
      })
    })
  })
}

function hostPort(l: Listener): string {
  return `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`
}
