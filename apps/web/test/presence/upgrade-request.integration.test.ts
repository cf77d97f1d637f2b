import { createServer, IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Hooks, Peer } from 'crossws'
import nodeAdapter from 'crossws/adapters/node'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { releaseUpgradeRequest } from '../../src/features/presence/upgrade-request'

type Internals = { _internal: { nodeReq: unknown; request: unknown } }
const internals = (peer: Peer) => (peer as unknown as Internals)._internal

let server: Server | undefined
let client: WebSocket | undefined
afterEach(async () => {
  client?.terminate()
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

/**
 * A CrossWS Node adapter mounted as Nitro mounts it: handed a web Request, and resolving the
 * route's hooks per peer through `resolve` (cached by CrossWS under the peer's context).
 */
async function serve(routeHooks: Partial<Hooks>) {
  let resolveCalls = 0
  const srv = createServer()
  server = srv
  const adapter = nodeAdapter({
    idleTimeout: 0,
    resolve: (request) => {
      resolveCalls++
      if (!(request instanceof Request)) throw new Error('resolve needs the upgrade request')
      return routeHooks
    },
  })
  srv.on('upgrade', (req, socket, head) => {
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      headers: req.headers as Record<string, string>,
    })
    void adapter.handleUpgrade(req, socket, head, request)
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as AddressInfo
  return { port, resolveCalls: () => resolveCalls }
}

describe('releaseUpgradeRequest on CrossWS Node peers', () => {
  it("drops the upgrade's message and request proxy; the socket, context and resolved hooks keep working", async () => {
    let before: { nodeReq: unknown; request: unknown } | undefined
    let released: boolean | undefined
    let opened: (peer: Peer) => void = () => {}
    const open = new Promise<Peer>((resolve) => {
      opened = resolve
    })
    const { port, resolveCalls } = await serve({
      upgrade: () => ({ context: { who: 'player' } }),
      open(peer) {
        before = { ...internals(peer) }
        released = releaseUpgradeRequest(peer)
        opened(peer)
      },
      message(peer, message) {
        peer.send(`${String(peer.context.who)}:${message.text()}:${peer.remoteAddress}`)
      },
    })
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`)
    client = ws
    const [peer] = await Promise.all([open, new Promise((resolve) => ws.once('open', resolve))])

    expect(before?.nodeReq).toBeInstanceOf(IncomingMessage)
    expect(before?.request).toBeDefined()
    expect(released).toBe(true)
    const after = internals(peer)
    expect(after.nodeReq).not.toBeInstanceOf(IncomingMessage)
    expect(Object.keys(after.nodeReq as object).sort()).toEqual([
      '_context',
      '_namespace',
      'socket',
    ])
    expect(after.request).toBeUndefined()
    expect(peer.context.who).toBe('player')

    const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))))
    ws.send('hello')
    expect(await echoed).toBe('player:hello:127.0.0.1')
    // The route's hooks were resolved once, at the upgrade, and found again for the message.
    expect(resolveCalls()).toBe(1)
    expect(peer.bufferedAmount).toBe(0)

    const closed = new Promise<number>((resolve) => ws.once('close', resolve))
    peer.close(4000, 'bye')
    expect(await closed).toBe(4000)
  })

  it('leaves a peer of another shape untouched', () => {
    const internal = { ws: {}, nodeReq: { url: '/api/ws' }, request: 'kept' }
    const peer = { _internal: internal } as unknown as Peer
    expect(releaseUpgradeRequest(peer)).toBe(false)
    expect(internal.nodeReq).toEqual({ url: '/api/ws' })
    expect(internal.request).toBe('kept')
    expect(releaseUpgradeRequest({} as Peer)).toBe(false)
  })
})
