import { PresenceCloseCode } from '@repo/discord-integration/contracts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { PresenceClient, type SocketLike } from '../../src/features/presence/presence-client'
import { BACKOFF_MAX_MS } from '../../src/features/presence/presence-machine'
import { until } from './bus-contract'
import { roomState, sf } from './fixtures'
import { connect, type Harness, ORIGIN, startHarness } from './ws-harness'

const ROOM = 'room_alpha_0001'
const CH = sf(901)
const OWNER = sf(1)
const PLAYER = sf(2)

let harness: Harness
const clients: PresenceClient[] = []

afterEach(async () => {
  vi.useRealTimers()
  for (const c of clients.splice(0)) c.destroy()
  await harness?.close()
})

async function setup(options: Parameters<typeof startHarness>[0] = {}) {
  harness = await startHarness(options)
  harness.rooms.add(ROOM, CH, roomState(OWNER, [OWNER, PLAYER]))
}

function client(userId: string) {
  const sockets: WebSocket[] = []
  const presence = new PresenceClient({
    url: harness.url,
    watchNetwork: false,
    random: () => 0,
    createSocket: (url) => {
      const ws = new WebSocket(url, { headers: { cookie: `session=${userId}` }, origin: ORIGIN })
      sockets.push(ws)
      return ws as unknown as SocketLike
    },
  })
  clients.push(presence)
  return { presence, sockets }
}

const ids = (presence: PresenceClient) =>
  presence
    .getStream(ROOM)
    .members.map((m) => m.userId)
    .sort()

describe('presence client against the real server', () => {
  it('connects once, applies the snapshot and follows live events', async () => {
    await setup()
    harness.voice.join(PLAYER, CH)
    const { presence, sockets } = client(OWNER)
    const release = presence.retain(ROOM)
    await until(() => presence.getStream(ROOM).synced)
    expect(presence.status).toBe('connected')
    expect(ids(presence)).toEqual([PLAYER])
    harness.voice.join(sf(50), CH)
    await until(() => ids(presence).length === 2)
    // StrictMode-style release + retain in the same tick keeps the one socket.
    release()
    const again = presence.retain(ROOM)
    // The release is deferred with setTimeout(0); a timer of the same delay set after it runs after it.
    await new Promise((r) => setTimeout(r, 0))
    expect(presence.status).toBe('connected')
    expect(sockets).toHaveLength(1)
    expect(harness.service.viewerCount(ROOM)).toBe(1)
    again()
    await until(() => presence.status === 'disconnected')
    await until(() => harness.service.health().sockets === 0)
  })

  it('reconnects after a dropped socket and resumes with since, without a snapshot', async () => {
    await setup()
    const { presence, sockets } = client(OWNER)
    presence.retain(ROOM)
    await until(() => presence.getStream(ROOM).synced)
    harness.voice.join(PLAYER, CH)
    await until(() => ids(presence).length === 1)
    sockets[0]?.terminate() // the network drops
    await until(() => presence.status === 'disconnected')
    harness.voice.join(sf(51), CH)
    harness.voice.leave(PLAYER)
    await until(() => presence.getStream(ROOM).synced && presence.status === 'connected', 3000)
    await until(() => ids(presence).join() === sf(51))
    expect(sockets).toHaveLength(2)
    const text = await harness.service.metricsText()
    expect(text).toContain('presence_subscribes_total{mode="resume"} 1')
    expect(text).toContain('presence_subscribes_total{mode="snapshot"} 1')
  })

  it('stops for good on a stop close code (the same user opened a newer socket)', async () => {
    await setup({ maxSocketsPerUser: 1 })
    const { presence, sockets } = client(OWNER)
    presence.retain(ROOM)
    await until(() => presence.getStream(ROOM).synced)
    // Timeouts from here on are fake (and follow the real clock), so a reconnect the client might
    // schedule on the close can be run at once below instead of being waited for.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true })
    const newer = await connect(harness.url, { userId: OWNER })
    await until(() => presence.stoppedBy === PresenceCloseCode.TooManySockets)
    vi.advanceTimersByTime(BACKOFF_MAX_MS)
    expect(sockets).toHaveLength(1)
    expect(presence.status).toBe('disconnected')
    expect(newer.ws.readyState).toBe(1)
    newer.ws.terminate()
  })
})
