import {
  type RedisServer,
  startRedisServer,
  startTcpProxy,
  type TcpProxy,
  waitUntil,
} from '@repo/process-harness'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { EventBus } from '../../src/features/presence/event-bus'
import { PresenceClient, type SocketLike } from '../../src/features/presence/presence-client'
import { createRedisEventBus } from '../../src/features/presence/redis-event-bus.server'
import { until } from './bus-contract'
import { roomState, sf } from './fixtures'
import { RoomTable, VoiceWorld } from './voice-world'
import { type Harness, ORIGIN, startHarness } from './ws-harness'

/**
 * The server brings connected browsers back in step by itself when the room stream or the voice
 * state moved in ways live delivery could not carry: Redis lost the room stream, the bus's
 * subscriber reconnected, a publish failed, or the voice mirror reloaded its snapshot. Each
 * against a redis-server of the test's own, with the browser's own client (presence-client.ts).
 */
const ROOM = 'room_resync_0001'
const CH = sf(901)
const OWNER = sf(1)
const PLAYER = sf(2)
const PREFIX = 'tv-resync:presence:'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function redisServer(options: Parameters<typeof startRedisServer>[0] = {}) {
  const server = await startRedisServer(options)
  cleanups.push(() => server.stop())
  return server
}

async function proxyTo(server: RedisServer): Promise<TcpProxy> {
  const proxy = await startTcpProxy(server.port)
  cleanups.push(() => proxy.close())
  return proxy
}

function bus(url: string): EventBus {
  const b = createRedisEventBus({ redis: url, keyPrefix: PREFIX })
  cleanups.push(() => b.close())
  return b
}

/** A presence node (the real service on crossws + node:http) with the room in its directory. */
async function node(b: EventBus, voice = new VoiceWorld()): Promise<Harness> {
  const rooms = new RoomTable()
  rooms.add(ROOM, CH, roomState(OWNER, [OWNER, PLAYER]))
  const harness = await startHarness({}, b, voice, rooms)
  cleanups.push(() => harness.close())
  return harness
}

/** Waits until the room stream holds `seq` frames. */
function published(harness: Harness, seq: number): Promise<true> {
  return waitUntil(
    async () => (await harness.service.bus.position(ROOM)).seq === seq,
    3_000,
    `seq ${seq} published`,
  )
}

/** The browser's presence client, following ROOM on `harness` as OWNER. */
async function browser(harness: Harness): Promise<PresenceClient> {
  const presence = new PresenceClient({
    url: harness.url,
    watchNetwork: false,
    random: () => 0,
    createSocket: (url) =>
      new WebSocket(url, {
        headers: { cookie: `session=${OWNER}` },
        origin: ORIGIN,
      }) as unknown as SocketLike,
  })
  cleanups.push(() => presence.destroy())
  presence.retain(ROOM)
  await until(() => presence.getStream(ROOM).synced, 5_000)
  return presence
}

const members = (presence: PresenceClient) =>
  presence
    .getStream(ROOM)
    .members.map((m) => `${m.userId}${m.selfMute ? ':muted' : ''}`)
    .sort()
const truth = (voice: VoiceWorld) =>
  voice
    .channelMembers(CH)
    .map((m) => `${m.userId}${m.selfMute ? ':muted' : ''}`)
    .sort()

describe('the server resyncs connected browsers', () => {
  it('when the room stream restarted (its keys gone): a snapshot of the new epoch, then the new frames are applied, not skipped as seen', async () => {
    const redis = await redisServer()
    const harness = await node(bus(redis.url))
    harness.voice.join(PLAYER, CH)
    await published(harness, 1)
    const presence = await browser(harness)
    for (let i = 0; i < 3; i++) harness.voice.toggleMute(PLAYER)
    await until(() => presence.getStream(ROOM).seq === 4, 3_000)
    const before = presence.getStream(ROOM).epoch
    // As when the room's keys expire or are evicted: the next frame starts a new epoch at seq 1.
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.disconnect())
    await admin.del(
      `${PREFIX}room:${ROOM}:seq`,
      `${PREFIX}room:${ROOM}:hist`,
      `${PREFIX}room:${ROOM}:epoch`,
    )
    harness.voice.join(sf(50), CH)
    await until(() => members(presence).includes(sf(50)), 3_000)
    const after = presence.getStream(ROOM)
    expect(after.epoch).not.toBe(before)
    expect(after.seq).toBe(1)
    harness.voice.leave(PLAYER)
    await until(() => presence.getStream(ROOM).seq === 2, 3_000)
    expect(members(presence)).toEqual(truth(harness.voice))
    expect(members(presence)).toEqual([sf(50)])
  })

  it('when Redis restarted empty (a kill -9 without persistence): no crash, and every later change reaches the browser', async () => {
    const redis = await redisServer()
    const harness = await node(bus(redis.url))
    harness.voice.join(PLAYER, CH)
    await published(harness, 1)
    const presence = await browser(harness)
    harness.voice.toggleMute(PLAYER)
    await until(() => presence.getStream(ROOM).seq === 2, 3_000)
    await redis.kill()
    harness.voice.join(sf(51), CH) // its publish fails: Redis is down
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    await redis.start()
    // The change that was never published arrives as a snapshot once the bus works again.
    await until(() => members(presence).includes(sf(51)), 10_000)
    harness.voice.toggleMute(sf(51))
    harness.voice.leave(PLAYER)
    await until(() => members(presence).join() === truth(harness.voice).join(), 5_000)
    expect(members(presence)).toEqual([`${sf(51)}:muted`])
  })

  it('when a publish failed but Redis kept the stream (AOF): a snapshot with the change, nothing doubled', async () => {
    const redis = await redisServer({ persistence: 'aof', fsync: 'always' })
    const harness = await node(bus(redis.url))
    harness.voice.join(PLAYER, CH)
    await published(harness, 1)
    const presence = await browser(harness)
    harness.voice.toggleMute(PLAYER)
    await until(() => presence.getStream(ROOM).seq === 2, 3_000)
    const { epoch } = presence.getStream(ROOM)
    await redis.kill()
    harness.voice.join(sf(52), CH) // never published: Redis is down for longer than ioredis retries it
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    await redis.start()
    await until(() => members(presence).includes(sf(52)), 10_000)
    // The room stream survived: same epoch, and the browser is at its end (a snapshot, no replay).
    expect(presence.getStream(ROOM)).toMatchObject({ epoch, seq: 2 })
    expect(members(presence)).toEqual(truth(harness.voice))
  })

  it('when the bus subscriber reconnected: what other nodes published meanwhile is replayed, without waiting for a next frame', async () => {
    const redis = await redisServer()
    const proxy = await proxyTo(redis)
    // Node A serves the browser through a proxy that loses its connections; node B publishes.
    const shared = new VoiceWorld()
    const a = await node(bus(`redis://127.0.0.1:${proxy.port}`))
    const b = await node(bus(redis.url), shared)
    const presence = await browser(a)
    proxy.freeze() // A's subscriber stops hearing: messages wait, then die with the connection
    shared.join(PLAYER, CH)
    shared.toggleMute(PLAYER)
    shared.join(sf(53), CH)
    await waitUntil(
      async () => (await b.service.bus.position(ROOM)).seq === 3,
      3_000,
      'B published',
    )
    proxy.cut()
    proxy.thaw()
    await until(() => presence.getStream(ROOM).seq === 3, 10_000)
    expect(members(presence)).toEqual(truth(shared))
  })

  it("when the node's voice mirror reloaded its snapshot: the differences reach this node's browsers as a snapshot, never as frames", async () => {
    const redis = await redisServer()
    const voice = new VoiceWorld({ stream: { epoch: 'voice-epoch-1' } })
    const harness = await node(bus(redis.url), voice)
    voice.join(PLAYER, CH)
    const presence = await browser(harness)
    const position = await harness.service.bus.position(ROOM)
    voice.resync((world) => {
      world.join(sf(54), CH)
      world.toggleMute(PLAYER)
    })
    await until(() => members(presence).includes(sf(54)), 3_000)
    expect(members(presence)).toEqual(truth(voice))
    expect(await harness.service.bus.position(ROOM)).toEqual(position) // nothing published
    voice.leave(sf(54))
    await until(() => !members(presence).includes(sf(54)), 3_000)
    expect(presence.getStream(ROOM).seq).toBe(position.seq + 1)
  })

  it('for a voice stream entry older than the bus remembers (the node was far behind): a snapshot, never a frame that could double it', async () => {
    const redis = await redisServer()
    let lag = 0
    const voice = new VoiceWorld({
      stream: { epoch: 'voice-epoch-2', time: () => Date.now() - lag },
    })
    const harness = await node(bus(redis.url), voice)
    voice.join(PLAYER, CH)
    await published(harness, 1)
    const presence = await browser(harness)
    lag = 90_000 // entries written a minute and a half ago, read only now
    voice.join(sf(55), CH)
    voice.toggleMute(PLAYER)
    await until(() => members(presence).join() === truth(voice).join(), 5_000)
    expect((await harness.service.bus.position(ROOM)).seq).toBe(1) // nothing published
    lag = 0
    voice.leave(sf(55))
    await until(() => !members(presence).includes(sf(55)), 3_000)
    expect(presence.getStream(ROOM).seq).toBe(2)
  })
})
