import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net'

/**
 * TcpProxy forwards a loopback port to a target; `sever()` cuts every open connection at once (a network failure as
 * the client sees it), while new connections keep working unless `refuse` is set.
 */
export class TcpProxy {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  port = 0
  refuse = false

  constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      if (this.refuse) {
        client.destroy()
        return
      }
      const upstream = tcpConnect(target.port, target.host)
      this.#sockets.add(client)
      this.#sockets.add(upstream)
      const drop = () => {
        client.destroy()
        upstream.destroy()
        this.#sockets.delete(client)
        this.#sockets.delete(upstream)
      }
      client.on('error', drop)
      upstream.on('error', drop)
      client.on('close', drop)
      upstream.on('close', drop)
      client.pipe(upstream)
      upstream.pipe(client)
    })
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.port = (this.#server.address() as { port: number }).port
    return `127.0.0.1:${this.port}`
  }

  /** sever destroys every proxied connection. */
  sever(): void {
    for (const s of this.#sockets) s.destroy()
    this.#sockets.clear()
  }

  async close(): Promise<void> {
    this.sever()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
