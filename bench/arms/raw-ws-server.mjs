/**
 * Baseline 1, the floor: a minimal `ws` fan-out server. The same gateway feed as the Socket.IO
 * baseline (gateway-feed.mjs), per-room sequence numbers and a 500-frame replay history, each
 * frame serialised once and written as the same Buffer to every subscriber. No authentication,
 * no schema validation, no backpressure cap, no heartbeats. Protocol: the client sends
 * `{type:'subscribe', room, since?}`; the server answers `{type:'subscribed', seq, recovered}`
 * (replaying missed frames when `since` is covered), then pushes frames.
 */

import { serveRequests } from '../lib/ipc.mjs'
import { importFromWeb } from '../lib/resolve.mjs'
import { RoomStreams, startGatewayFeed } from './gateway-feed.mjs'

const { WebSocketServer } = await importFromWeb('ws')

const streams = new RoomStreams()
/** roomId -> Set<WebSocket> */
const subscribers = new Map()
let feed = null

serveRequests({
  configure: async (msg) => {
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      perMessageDeflate: false,
      maxPayload: 4096,
      backlog: 4096,
    })
    await new Promise((r) => wss.once('listening', r))
    wss.on('connection', (ws) => {
      const mine = new Set()
      ws.on('message', (data) => {
        let frame
        try {
          frame = JSON.parse(String(data))
        } catch {
          return
        }
        if (frame?.type !== 'subscribe' || typeof frame.room !== 'string') return
        let set = subscribers.get(frame.room)
        if (!set) {
          set = new Set()
          subscribers.set(frame.room, set)
        }
        set.add(ws)
        mine.add(frame.room)
        const s = streams.stream(frame.room)
        const missed =
          typeof frame.since === 'number' ? streams.replay(frame.room, frame.since) : null
        ws.send(
          JSON.stringify({
            v: 1,
            type: 'subscribed',
            room: frame.room,
            seq: s.seq,
            recovered: missed !== null,
          }),
        )
        for (const text of missed ?? []) ws.send(text)
      })
      ws.on('close', () => {
        for (const room of mine) subscribers.get(room)?.delete(ws)
      })
      ws.on('error', () => {})
    })
    feed = await startGatewayFeed({
      restBase: msg.restBase,
      botToken: msg.botToken,
      rooms: msg.rooms,
      onFrame: (roomId, body) => {
        const buf = Buffer.from(streams.stamp(roomId, body))
        const set = subscribers.get(roomId)
        if (set) for (const ws of set) ws.send(buf, { binary: false })
      },
    })
    return { port: wss.address().port }
  },
})

process.on('SIGTERM', () => {
  void Promise.resolve(feed?.close()).finally(() => process.exit(0))
})
process.send?.({ event: 'ready' })
