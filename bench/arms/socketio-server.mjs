/**
 * Baseline 2, what users would pick instead: Socket.IO 4.8 doing the same fan-out. The same
 * gateway feed as the raw baseline; rooms are Socket.IO rooms (`socket.join(room)`), each frame is
 * broadcast with `io.to(room).emit('frame', text)` (the adapter encodes a broadcast once).
 * WebSocket transport only (no long-polling), no per-message deflate, Socket.IO's own connection
 * state recovery on (2 min window) for the reconnect storm, default heartbeats (25 s). No
 * authentication. The `subscribe` ack carries the room's current seq.
 */
import { createServer } from 'node:http'
import { serveRequests } from '../lib/ipc.mjs'
import { importFromWeb } from '../lib/resolve.mjs'
import { RoomStreams, startGatewayFeed } from './gateway-feed.mjs'

const { Server } = await importFromWeb('socket.io')

const streams = new RoomStreams(0)
let feed = null

serveRequests({
  configure: async (msg) => {
    const http = createServer()
    const io = new Server(http, {
      transports: ['websocket'],
      perMessageDeflate: false,
      serveClient: false,
      connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: true },
    })
    io.on('connection', (socket) => {
      socket.on('subscribe', (frame, ack) => {
        if (typeof frame?.room !== 'string') return
        socket.join(frame.room)
        if (typeof ack === 'function') ack({ seq: streams.stream(frame.room).seq })
      })
    })
    await new Promise((r) => http.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, r))
    feed = await startGatewayFeed({
      restBase: msg.restBase,
      botToken: msg.botToken,
      rooms: msg.rooms,
      onFrame: (roomId, body) => {
        io.to(roomId).emit('frame', streams.stamp(roomId, body))
      },
    })
    return { port: http.address().port }
  },
})

process.on('SIGTERM', () => {
  void Promise.resolve(feed?.close()).finally(() => process.exit(0))
})
process.send?.({ event: 'ready' })
