import { connect, createServer, type Server, type Socket } from 'node:net'

/** A loopback TCP proxy a test can freeze (a partition without a reset) and thaw. */
export interface TcpProxy {
  /** The port to connect to instead of the target's. */
  readonly port: number
  /** Stops forwarding in both directions; bytes wait in the socket buffers. */
  freeze(): void
  /** Stops forwarding on the connections open now only; new ones flow (a socket gone silent). */
  freezeOpen(): void
  /** Forwards again, including what waited. */
  thaw(): void
  /** Closes every proxied connection (both sides see a reset-like close). */
  cut(): void
  close(): Promise<void>
}

/**
 * Forwards `127.0.0.1:port` to `127.0.0.1:targetPort`. No library does this in-process for
 * Node (Toxiproxy is a Go binary the machines cannot install), and freezing a connection is a few
 * lines: pause both sockets.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>()
  let frozen = false
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort })
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    client.pipe(upstream)
    upstream.pipe(client)
    if (frozen) for (const socket of pair) socket.pause()
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    port,
    freeze() {
      frozen = true
      for (const pair of pairs) for (const socket of pair) socket.pause()
    },
    freezeOpen() {
      for (const pair of pairs) for (const socket of pair) socket.pause()
    },
    thaw() {
      frozen = false
      for (const pair of pairs) for (const socket of pair) socket.resume()
    },
    cut() {
      for (const [client, upstream] of [...pairs]) {
        client.destroy()
        upstream.destroy()
      }
    },
    async close() {
      for (const [client, upstream] of [...pairs]) {
        client.destroy()
        upstream.destroy()
      }
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
