import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Peer } from 'crossws'
import nodeAdapter from 'crossws/adapters/node'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { releaseUpgradeRequest } from '../../src/features/presence/upgrade-request'

type Internals = { _internal: { nodeReq: { _request?: unknown } } }

let server: Server | undefined
let client: WebSocket | undefined
afterEach(async () => {
  client?.terminate()
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

describe('releaseUpgradeRequest on CrossWS Node peers', () => {
  it('drops the parked upgrade request and leaves the socket, its request and context working', async () => {
    let parked: unknown
    let released: boolean | undefined
    const srv = createServer()
    server = srv
    const opened = new Promise<Peer>((resolve) => {
      const adapter = nodeAdapter({
        idleTimeout: 0,
        hooks: {
          upgrade: () => ({ context: { who: 'player' } }),
          open(peer) {
            parked = (peer as unknown as Internals)._internal.nodeReq._request
            released = releaseUpgradeRequest(peer)
            resolve(peer)
          },
          message(peer, message) {
            peer.send(`${String(peer.context.who)}:${message.text()}`)
          },
        },
      })
      // As Nitro does: the adapter is handed a web Request it then parks on the message.
      srv.on('upgrade', (req, socket, head) => {
        const request = new Request(`http://${req.headers.host}${req.url}`, {
          headers: req.headers as Record<string, string>,
        })
        void adapter.handleUpgrade(req, socket, head, request)
      })
    })
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
    const { port } = srv.address() as AddressInfo
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`)
    client = ws
    const [peer] = await Promise.all([opened, new Promise((resolve) => ws.once('open', resolve))])
    expect(parked).toBeInstanceOf(Request)
    expect(released).toBe(true)
    expect((peer as unknown as Internals)._internal.nodeReq._request).toBeUndefined()
    expect(peer.request.headers.get('host')).toBe(`127.0.0.1:${port}`)
    const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))))
    ws.send('hello')
    expect(await echoed).toBe('player:hello')
    const closed = new Promise<number>((resolve) => ws.once('close', resolve))
    peer.close(4000, 'bye')
    expect(await closed).toBe(4000)
  })
})
