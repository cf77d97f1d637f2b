import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, emulatorEnv, startEmulator } from '@repo/discord-emulator'
import { PROTOCOL_VERSION, type ServerFrame } from '@repo/discord-integration/contracts'
import nodeAdapter from 'crossws/adapters/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { hooks } from '../../server/routes/api/ws'
import { startRuntime, stopRuntime } from '../../src/server/runtime.server'
import { newPlayer, sessionCookie } from './sessions'

/**
 * The Nitro WebSocket route (server/routes/api/ws.ts) as the production server mounts it: its
 * hooks reach the process-wide runtime (the route is bundled apart from the rest of the server),
 * here started against the Discord emulator and served by crossws on a real socket.
 */

const PUBLIC_URL = 'http://127.0.0.1:3994'
const SECRET = 'ws-route-test-secret-'.padEnd(48, 'w')
let emu: Emulator
let dir: string
let server: Server
let url: string
let closeAdapter: () => void
/** A second server of the pool (DISCORD_GUILD_IDS), besides the emulator's default one. */
let second: string

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true })
  dir = await mkdtemp(join(tmpdir(), 'tv-ws-route-'))
  const owner = emu.control.createUser({ username: 'second_server_owner' })
  second = emu.control.createGuild({ name: 'Second server', ownerId: owner.id }).id
  // The process-wide runtime reads its configuration from the environment, as in production.
  Object.assign(process.env, {
    ...emulatorEnv(emu),
    DISCORD_GUILD_IDS: second,
    SESSION_SECRET: SECRET,
    PUBLIC_URL,
    DATA_DIR: dir,
    LOG_LEVEL: 'silent',
  })
  const runtime = await startRuntime()
  await runtime.feed?.ready(10_000)
  const adapter = nodeAdapter({ hooks })
  closeAdapter = () => adapter.closeAll(undefined, undefined, true)
  server = createServer((_req, res) => {
    res.statusCode = 426
    res.end()
  })
  server.on('upgrade', (req, socket, head) => {
    void adapter.handleUpgrade(req, socket, head)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/ws`
})

afterAll(async () => {
  closeAdapter?.()
  server?.closeAllConnections()
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()))
  await stopRuntime()
  delete process.env.DISCORD_GUILD_IDS
  await emu?.close()
  await rm(dir, { recursive: true, force: true })
})

/** Opens a socket; resolves with its frames, or rejects with the HTTP status of a refusal. */
function open(headers: Record<string, string>) {
  return new Promise<{
    ws: WebSocket
    frames: ServerFrame[]
    next: (type: string) => Promise<ServerFrame>
  }>((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    const frames: ServerFrame[] = []
    const waiting: (() => void)[] = []
    ws.on('message', (data) => {
      frames.push(JSON.parse(data.toString()) as ServerFrame)
      for (const wake of waiting.splice(0)) wake()
    })
    const next = (type: string) =>
      new Promise<ServerFrame>((found, fail) => {
        const timer = setTimeout(() => fail(new Error(`no ${type} frame`)), 10_000)
        const look = () => {
          const frame = frames.find((f) => f.type === type)
          if (frame) {
            clearTimeout(timer)
            found(frame)
          } else waiting.push(look)
        }
        look()
      })
    ws.once('open', () => resolve({ ws, frames, next }))
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }))
      ws.terminate()
    })
    ws.once('error', reject)
  })
}

describe('the /api/ws route', () => {
  it('refuses an upgrade without a session (401) or from another origin (403)', async () => {
    await expect(open({ origin: PUBLIC_URL })).rejects.toMatchObject({ status: 401 })
    const cookie = await sessionCookie((await startRuntime()).auth, newPlayer(emu))
    await expect(open({ origin: 'https://evil.example', cookie })).rejects.toMatchObject({
      status: 403,
    })
  })

  it("serves a room's player: subscribed, a snapshot, then the room's voice events", async () => {
    const owner = newPlayer(emu)
    const runtime = await startRuntime()
    const room = await runtime.rooms.createRoom(
      { ...owner, globalName: null, avatar: null },
      'ws route',
    )
    const { ws, next } = await open({
      origin: PUBLIC_URL,
      cookie: await sessionCookie(runtime.auth, owner),
    })
    try {
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'subscribe', room: room.id }))
      expect(await next('subscribed')).toMatchObject({ room: room.id })
      expect(await next('presence.snapshot')).toMatchObject({ room: room.id, members: [] })
      emu.control.setVoice({ userId: owner.userId, channelId: room.channelId })
      expect(await next('voice.joined')).toMatchObject({
        room: room.id,
        member: { userId: owner.userId },
      })
    } finally {
      ws.close()
    }
  })

  it('rooms in two servers: voice reaches only its room’s sockets; the bot removed from one server closes only its rooms, with guild_removed', async () => {
    const runtime = await startRuntime()
    // Rooms go to the server with the most room left: create until both servers hold one.
    const rooms = new Map<
      string,
      { id: string; channelId: string; owner: ReturnType<typeof newPlayer> }
    >()
    for (let i = 0; i < 6 && rooms.size < 2; i++) {
      const owner = newPlayer(emu)
      const room = await runtime.rooms.createRoom(
        { ...owner, globalName: null, avatar: null },
        `two servers ${i}`,
      )
      if (!rooms.has(room.guildId)) rooms.set(room.guildId, { ...room, owner })
    }
    const inDefault = rooms.get(emu.guildId)
    const inSecond = rooms.get(second)
    if (!inDefault || !inSecond) throw new Error('a room in each server')
    const sockets = await Promise.all(
      [inDefault, inSecond].map(async (room) => {
        const socket = await open({
          origin: PUBLIC_URL,
          cookie: await sessionCookie(runtime.auth, room.owner),
        })
        socket.ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'subscribe', room: room.id }))
        await socket.next('presence.snapshot')
        return socket
      }),
    )
    const [a, b] = sockets as [(typeof sockets)[0], (typeof sockets)[0]]
    try {
      emu.control.setVoice({ userId: inSecond.owner.userId, channelId: inSecond.channelId })
      expect(await b.next('voice.joined')).toMatchObject({
        room: inSecond.id,
        member: { userId: inSecond.owner.userId },
      })
      // The bot leaves the second server: its room closes, the other is untouched.
      emu.control.setBotMembership({ member: false, guildId: second })
      expect(await b.next('room.deleted')).toMatchObject({
        room: inSecond.id,
        reason: 'guild_removed',
      })
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(a.frames.map((f) => f.type)).not.toContain('voice.joined')
      expect(a.frames.map((f) => f.type)).not.toContain('room.deleted')
      expect(runtime.rooms.roomForChannel(inDefault.channelId)).toBe(inDefault.id)
      expect(runtime.rooms.roomForChannel(inSecond.channelId)).toBeNull()
    } finally {
      for (const socket of sockets) socket.ws.close()
    }
  })

  it('signing out closes the session’s open sockets with 4001, and its cookie opens none any more', async () => {
    const runtime = await startRuntime()
    const player = newPlayer(emu)
    const cookie = await sessionCookie(runtime.auth, player)
    const otherSession = await sessionCookie(runtime.auth, player)
    const { ws } = await open({ origin: PUBLIC_URL, cookie })
    const { ws: other } = await open({ origin: PUBLIC_URL, cookie: otherSession })
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)))
    try {
      await runtime.auth.logout(cookie)
      expect(await closed).toBe(4001)
      // The same user's other session keeps its socket.
      expect(other.readyState).toBe(WebSocket.OPEN)
      await expect(open({ origin: PUBLIC_URL, cookie })).rejects.toMatchObject({ status: 401 })
    } finally {
      ws.terminate()
      other.close()
    }
  })
})
