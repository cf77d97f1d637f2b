import { randomUUID } from 'node:crypto'
import {
  PresenceCloseCode,
  type ServerFrame,
  type VoiceMember,
} from '@repo/discord-integration/contracts'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EventBus, HistoryLimits } from '../../src/features/presence/event-bus'
import { createMemoryEventBus } from '../../src/features/presence/memory-event-bus.server'
import { DEFAULT_PRESENCE_OPTIONS } from '../../src/features/presence/presence-options'
import { createRedisEventBus } from '../../src/features/presence/redis-event-bus.server'
import { pingGroupCount } from '../../src/features/presence/socket-registry.server'
import { until } from './bus-contract'
import { roomState, sf } from './fixtures'
import { connect, type Harness, startHarness, type TestClient } from './ws-harness'

const ROOM_A = 'room_alpha_0001'
const ROOM_B = 'room_bravo_0002'
const CH_A = sf(901)
const CH_B = sf(902)
const OWNER = sf(1)
const PLAYER = sf(2)
const STRANGER = sf(3)

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const REDIS_PREFIX = `test:presence-ws:${randomUUID()}:`

type BusMaker = (history?: Partial<HistoryLimits>) => EventBus
const BUSES: [string, BusMaker][] = [
  ['memory bus', (history) => createMemoryEventBus(history ? { history } : {})],
  [
    'redis bus',
    (history) =>
      createRedisEventBus({
        redis: REDIS_URL,
        keyPrefix: `${REDIS_PREFIX}${randomUUID()}:`,
        ...(history ? { history } : {}),
      }),
  ],
]

afterAll(async () => {
  const admin = new Redis(REDIS_URL)
  const keys = await admin.keys(`${REDIS_PREFIX}*`)
  if (keys.length > 0) await admin.del(...keys)
  admin.disconnect()
})

let harness: Harness
let bus: EventBus | undefined
let makeBus: BusMaker
const clients: TestClient[] = []

async function setup(
  options: Parameters<typeof startHarness>[0] = {},
  history?: Partial<HistoryLimits>,
) {
  bus = makeBus(history)
  harness = await startHarness(options, bus)
  harness.rooms.add(ROOM_A, CH_A, roomState(OWNER, [OWNER, PLAYER]))
  harness.rooms.add(ROOM_B, CH_B, roomState(STRANGER, [STRANGER]))
  return harness
}
async function open(userId: string, opts: Parameters<typeof connect>[1] = {}) {
  const client = await connect(harness.url, { userId, ...opts })
  clients.push(client)
  return client
}
async function subscribe(client: TestClient, room: string, extra: Record<string, unknown> = {}) {
  client.send({ v: 1, type: 'subscribe', room, ...extra })
  return client.next('subscribed', (f) => f.room === room)
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate()
  await harness?.close()
  await bus?.close()
})

/** The member list a browser reconstructs from snapshot + frames with seq above it. */
function reconstruct(frames: ServerFrame[], room: string) {
  const members = new Map<string, VoiceMember>()
  let seq = -1
  const applied: number[] = []
  for (const f of frames) {
    if (f.type === 'error' || f.type === 'pong' || f.room !== room) continue
    if (f.type === 'presence.snapshot') {
      members.clear()
      for (const m of f.members) members.set(m.userId, m)
      seq = f.seq
      continue
    }
    if (f.type === 'subscribed' || seq < 0 || f.seq <= seq) continue
    applied.push(f.seq)
    seq = f.seq
    if (f.type === 'voice.joined' || f.type === 'voice.updated')
      members.set(f.member.userId, f.member)
    if (f.type === 'voice.left') members.delete(f.userId)
  }
  return { members, applied, seq }
}

describe.each(BUSES)('presence protocol v1 over real sockets (%s)', (_name, maker) => {
  makeBus = maker
  beforeAll(() => {
    makeBus = maker
  })
  describe('upgrade', () => {
    it('refuses a socket without a session with 401', async () => {
      await setup()
      await expect(connect(harness.url, {})).rejects.toMatchObject({ status: 401 })
    })

    it('refuses a foreign or missing Origin with 403, even with a valid session', async () => {
      await setup()
      await expect(
        connect(harness.url, { userId: OWNER, origin: 'https://evil.test' }),
      ).rejects.toMatchObject({
        status: 403,
      })
      await expect(connect(harness.url, { userId: OWNER, origin: null })).rejects.toMatchObject({
        status: 403,
      })
      const ok = await open(OWNER)
      expect(ok.ws.readyState).toBe(1)
    })
  })

  describe('subscriptions', () => {
    it('answers a subscribe with subscribed{recovered:false} and a snapshot of members and room state', async () => {
      await setup()
      harness.voice.join(PLAYER, CH_A)
      harness.voice.join(STRANGER, CH_B)
      const c = await open(OWNER)
      const subscribed = await subscribe(c, ROOM_A)
      expect(subscribed).toMatchObject({ v: 1, recovered: false, seq: 1 })
      const snapshot = await c.next('presence.snapshot')
      expect(snapshot).toMatchObject({
        v: 1,
        room: ROOM_A,
        seq: 1,
        channelId: CH_A,
        state: { ownerId: OWNER },
      })
      expect(snapshot.members.map((m) => m.userId)).toEqual([PLAYER])
      expect(typeof snapshot.epoch).toBe('string')
      expect(harness.service.viewerCount(ROOM_A)).toBe(1)
    })

    it('refuses rooms the user does not belong to with FORBIDDEN and keeps the socket', async () => {
      await setup()
      const c = await open(PLAYER)
      c.send({ v: 1, type: 'subscribe', room: ROOM_B })
      expect(await c.next('error')).toMatchObject({ code: 'FORBIDDEN', room: ROOM_B, seq: 0 })
      c.send({ v: 1, type: 'subscribe', room: 'room_nowhere_404' })
      expect(await c.next('error')).toMatchObject({ code: 'FORBIDDEN', room: 'room_nowhere_404' })
      c.send({ v: 1, type: 'ping', id: 1 })
      expect(await c.next('pong')).toMatchObject({ id: 1 })
      expect(harness.service.viewerCount(ROOM_B)).toBe(0)
    })

    it('delivers voice activity only to the subscribers of the room that owns the channel', async () => {
      await setup()
      const a = await open(OWNER)
      const b = await open(STRANGER)
      await subscribe(a, ROOM_A)
      await subscribe(b, ROOM_B)
      harness.voice.join(PLAYER, CH_A)
      harness.voice.join(sf(50), sf(999)) // a channel without a room
      harness.voice.join(STRANGER, CH_B)
      const joinedA = await a.next('voice.joined')
      expect(joinedA).toMatchObject({ room: ROOM_A, seq: 1, member: { userId: PLAYER } })
      expect(joinedA.receivedAt).toBeGreaterThan(0)
      const joinedB = await b.next('voice.joined')
      expect(joinedB.member.userId).toBe(STRANGER)
      expect(b.frames.some((f) => f.type === 'voice.joined' && f.member.userId === PLAYER)).toBe(
        false,
      )
      // A move from room A's channel to room B's: left on A, joined on B.
      harness.voice.join(PLAYER, CH_B)
      expect(await a.next('voice.left')).toMatchObject({
        userId: PLAYER,
        channelId: CH_A,
        reason: 'moved',
        seq: 2,
      })
      expect(await b.next('voice.joined')).toMatchObject({ member: { userId: PLAYER }, seq: 2 })
      harness.voice.toggleMute(PLAYER)
      expect(await b.next('voice.updated')).toMatchObject({
        changed: ['selfMute'],
        member: { selfMute: true },
      })
    })

    it('stops delivering after unsubscribe', async () => {
      await setup()
      const c = await open(OWNER)
      await subscribe(c, ROOM_A)
      c.send({ v: 1, type: 'unsubscribe', room: ROOM_A })
      await until(() => harness.service.viewerCount(ROOM_A) === 0)
      harness.voice.join(PLAYER, CH_A)
      c.send({ v: 1, type: 'ping', id: 2 })
      await c.next('pong')
      expect(c.frames.some((f) => f.type === 'voice.joined')).toBe(false)
    })

    it('relays rooms-layer frames and cuts off a player removed by room.updated', async () => {
      await setup()
      const owner = await open(OWNER)
      const player = await open(PLAYER)
      await subscribe(owner, ROOM_A)
      await subscribe(player, ROOM_A)
      harness.service.publish(ROOM_A, { type: 'room.closing', closesAt: 123 })
      expect(await player.next('room.closing')).toMatchObject({ closesAt: 123, seq: 1 })
      const state = roomState(OWNER, [OWNER])
      harness.rooms.add(ROOM_A, CH_A, state)
      harness.service.publish(ROOM_A, { type: 'room.updated', state })
      expect(await player.next('room.updated')).toMatchObject({ seq: 2 })
      expect(await player.next('error')).toMatchObject({ code: 'FORBIDDEN', room: ROOM_A })
      harness.voice.join(sf(60), CH_A)
      expect(await owner.next('voice.joined')).toMatchObject({ seq: 3 })
      expect(player.frames.some((f) => f.type === 'voice.joined')).toBe(false)
      harness.service.publish(ROOM_A, { type: 'room.deleted', reason: 'closed' })
      expect(await owner.next('room.deleted')).toMatchObject({ reason: 'closed' })
      await until(() => harness.service.viewerCount(ROOM_A) === 0)
    })
  })

  describe('resume', () => {
    it('replays exactly the missed frames when since is still in history', async () => {
      await setup()
      const first = await open(OWNER)
      await subscribe(first, ROOM_A)
      const snapshot = await first.next('presence.snapshot')
      harness.voice.join(PLAYER, CH_A)
      const seen = await first.next('voice.joined')
      first.ws.terminate()
      await until(() => harness.service.viewerCount(ROOM_A) === 0)
      // Missed while away:
      harness.voice.toggleMute(PLAYER)
      harness.voice.join(sf(61), CH_A)
      harness.voice.leave(PLAYER)
      const again = await open(OWNER)
      const subscribed = await subscribe(again, ROOM_A, { since: seen.seq, epoch: snapshot.epoch })
      expect(subscribed).toMatchObject({ recovered: true, seq: seen.seq })
      harness.voice.join(sf(62), CH_A) // live, after the replay
      await again.next('voice.joined', (f) => f.member.userId === sf(62))
      const stream = again.frames.filter((f) => f.type !== 'subscribed')
      expect(stream.map((f) => [f.type, f.seq])).toEqual([
        ['voice.updated', 2],
        ['voice.joined', 3],
        ['voice.left', 4],
        ['voice.joined', 5],
      ])
      expect(again.frames.some((f) => f.type === 'presence.snapshot')).toBe(false)
    })

    it('sends subscribed{recovered:false} and a fresh snapshot when since is too old', async () => {
      await setup({}, { maxFrames: 5 })
      const first = await open(OWNER)
      await subscribe(first, ROOM_A)
      const snapshot = await first.next('presence.snapshot')
      first.ws.terminate()
      for (let i = 0; i < 8; i++) harness.voice.join(sf(100 + i), CH_A)
      harness.voice.leave(sf(100))
      const again = await open(OWNER)
      const subscribed = await subscribe(again, ROOM_A, {
        since: snapshot.seq,
        epoch: snapshot.epoch,
      })
      expect(subscribed).toMatchObject({ recovered: false, seq: 9 })
      const fresh = await again.next('presence.snapshot')
      expect(fresh.seq).toBe(9)
      expect(fresh.members.map((m) => m.userId).sort()).toEqual(
        Array.from({ length: 7 }, (_, i) => sf(101 + i)).sort(),
      )
    })

    it('falls back to a snapshot for a since from another stream epoch (server restart)', async () => {
      await setup()
      harness.voice.join(PLAYER, CH_A)
      const c = await open(OWNER)
      const subscribed = await subscribe(c, ROOM_A, { since: 0, epoch: 'an-older-life' })
      expect(subscribed.recovered).toBe(false)
      expect((await c.next('presence.snapshot')).members).toHaveLength(1)
    })

    it('keeps snapshots exact while voice events race with subscribes', async () => {
      await setup()
      const users = Array.from({ length: 12 }, (_, i) => sf(200 + i))
      let running = true
      let n = 0
      const churn = async () => {
        while (running) {
          const user = users[n % users.length] as string
          const roll = (n * 7919) % 10
          if (roll < 4) harness.voice.join(user, CH_A)
          else if (roll < 6) harness.voice.join(user, CH_B)
          else if (roll < 8) harness.voice.leave(user)
          else harness.voice.toggleMute(user)
          n++
          await new Promise((r) => setImmediate(r))
        }
      }
      const loop = churn()
      // Lets the churn run `steps` more voice changes.
      const churned = (steps: number) => {
        const target = n + steps
        return until(() => n >= target)
      }
      const subscribers: TestClient[] = []
      for (let i = 0; i < 8; i++) {
        const c = await open(i % 2 === 0 ? OWNER : PLAYER)
        c.send({ v: 1, type: 'subscribe', room: ROOM_A })
        subscribers.push(c)
        await churned(10)
      }
      // Every subscriber has its snapshot, and events keep racing in after the last one.
      await until(() =>
        subscribers.every((c) => c.frames.some((f) => f.type === 'presence.snapshot')),
      )
      await churned(300)
      running = false
      await loop
      const { seq: finalSeq } = await harness.service.bus.position(ROOM_A)
      expect(finalSeq).toBeGreaterThan(50)
      const expected = harness.voice
        .channelMembers(CH_A)
        .map((m) => `${m.userId}:${m.selfMute}`)
        .sort()
      for (const c of subscribers) {
        await until(() =>
          c.frames.some((f) => f.room === ROOM_A && f.seq === finalSeq && f.type !== 'subscribed'),
        )
        const { members, applied } = reconstruct(c.frames, ROOM_A)
        const snapshot = c.frames.find((f) => f.type === 'presence.snapshot')
        expect(snapshot).toBeDefined()
        // Every frame after the snapshot arrived exactly once and in order: no gap, no double.
        const from = snapshot?.seq ?? 0
        expect(applied).toEqual(Array.from({ length: finalSeq - from }, (_, i) => from + 1 + i))
        const stream = c.frames.filter(
          (f) => f.type !== 'subscribed' && f.type !== 'presence.snapshot',
        )
        expect(new Set(stream.map((f) => f.seq)).size).toBe(stream.length)
        expect([...members.values()].map((m) => `${m.userId}:${m.selfMute}`).sort()).toEqual(
          expected,
        )
      }
    })
  })

  describe('protection', () => {
    it('closes a consumer that stops reading with 4009 while the others keep receiving', async () => {
      await setup({ maxBufferedBytes: 256 * 1024, closeGraceMs: 10_000 })
      const slow = await open(OWNER)
      const fast = await open(PLAYER)
      await subscribe(slow, ROOM_A)
      await subscribe(fast, ROOM_A)
      await fast.next('presence.snapshot')
      slow.ws.pause() // stops reading from its TCP socket
      const dropped = () =>
        harness.service.metrics.socketsDropped
          .get()
          .then((m) => m.values.find((v) => v.labels.reason === 'slow_consumer')?.value ?? 0)
      let published = 0
      const padding = 'x'.repeat(0)
      while ((await dropped()) === 0 && published < 400_000) {
        for (let i = 0; i < 500; i++) {
          harness.service.publish(ROOM_A, { type: 'room.closing', closesAt: Date.now() })
          published++
        }
        await new Promise((r) => setImmediate(r))
        void padding
      }
      expect(await dropped()).toBe(1)
      await until(
        () => fast.frames.filter((f) => f.type === 'room.closing').length === published,
        10_000,
      )
      // The fast client got every frame in order (how promptly is the benchmark's scenario (d)).
      const seqs = fast.frames.filter((f) => f.type === 'room.closing').map((f) => f.seq)
      expect(seqs).toEqual(Array.from({ length: published }, (_, i) => i + 1))
      slow.ws.resume()
      expect((await slow.closed).code).toBe(PresenceCloseCode.SlowConsumer)
      expect(harness.service.viewerCount(ROOM_A)).toBe(1)
    }, 60_000)

    it('closes a flooding socket with RATE_LIMITED and 4008', async () => {
      await setup({ ratePerSecond: 5, rateBurst: 10 })
      const c = await open(OWNER)
      for (let i = 0; i < 30; i++) c.send({ v: 1, type: 'ping', id: i })
      expect(await c.next('error')).toMatchObject({ code: 'RATE_LIMITED' })
      expect((await c.closed).code).toBe(PresenceCloseCode.RateLimited)
      expect(c.frames.filter((f) => f.type === 'pong')).toHaveLength(10)
    })

    it('answers malformed frames with BAD_FRAME and keeps serving', async () => {
      await setup()
      const c = await open(OWNER)
      for (const bad of [
        'not json',
        '[]',
        JSON.stringify({ v: 1, type: 'subscribe', room: 'x' }),
        JSON.stringify({ v: 1, type: 'teleport' }),
        JSON.stringify({ type: 'ping' }),
        JSON.stringify({ v: 1, type: 'subscribe', room: ROOM_A, since: -1 }),
      ]) {
        c.send(bad)
        expect(await c.next('error')).toMatchObject({ code: 'BAD_FRAME', room: null })
      }
      c.ws.send(Buffer.from([1, 2, 3]), { binary: true })
      expect(await c.next('error')).toMatchObject({ code: 'BAD_FRAME' })
      await subscribe(c, ROOM_A)
      expect(c.ws.readyState).toBe(1)
    })

    it('closes with 4002 after too many bad frames', async () => {
      await setup({ maxBadFrames: 3 })
      const c = await open(OWNER)
      for (let i = 0; i < 5; i++) c.send('{')
      expect((await c.closed).code).toBe(PresenceCloseCode.ProtocolViolation)
    })

    it('closes with 4014 on a frame larger than 4096 bytes', async () => {
      await setup()
      const c = await open(OWNER)
      c.send(JSON.stringify({ v: 1, type: 'ping', pad: 'x'.repeat(5000) }))
      expect((await c.closed).code).toBe(PresenceCloseCode.FrameTooLarge)
    })

    it('answers another protocol version with UNSUPPORTED_VERSION and 4011', async () => {
      await setup()
      const c = await open(OWNER)
      c.send({ v: 2, type: 'subscribe', room: ROOM_A })
      expect(await c.next('error')).toMatchObject({ code: 'UNSUPPORTED_VERSION' })
      expect((await c.closed).code).toBe(PresenceCloseCode.UnsupportedVersion)
    })

    it('beyond the per-user maximum, closes the user’s oldest socket with 4010', async () => {
      await setup({ maxSocketsPerUser: 2 })
      const one = await open(OWNER)
      const two = await open(OWNER)
      const three = await open(OWNER)
      expect((await one.closed).code).toBe(PresenceCloseCode.TooManySockets)
      const other = await open(PLAYER)
      expect(other.ws.readyState).toBe(1)
      expect(two.ws.readyState).toBe(1)
      expect(three.ws.readyState).toBe(1)
      await subscribe(three, ROOM_A)
      await until(() => harness.service.health().sockets === 3)
    })

    it('answers ping frames with pong and ends sockets that stop answering protocol pings (4013)', async () => {
      await setup({ pingIntervalMs: 100 })
      const live = await open(OWNER)
      const dead = await open(PLAYER, { autoPong: false })
      live.send({ v: 1, type: 'ping', id: 42 })
      expect(await live.next('pong')).toMatchObject({ v: 1, room: null, seq: 0, id: 42 })
      // The live socket answers: it outlives three more rounds of pings.
      let pings = 0
      live.ws.on('ping', () => pings++)
      expect((await dead.closed).code).toBe(PresenceCloseCode.PingTimeout)
      await until(() => pings >= 3)
      expect(live.ws.readyState).toBe(1)
    })

    it('spreads protocol pings over the interval in small groups', async () => {
      // At the default 25 s, 10,000 sockets are pinged 20 at a time.
      expect(Math.ceil(10_000 / pingGroupCount(DEFAULT_PRESENCE_OPTIONS.pingIntervalMs))).toBe(20)
      await setup({ pingIntervalMs: 1_000 })
      const clients = await Promise.all(Array.from({ length: 40 }, (_, i) => open(sf(500 + i))))
      const pings: number[] = []
      for (const c of clients) c.ws.on('ping', () => pings.push(performance.now()))
      await until(() => pings.length >= 40, 3_000)
      pings.sort((a, b) => a - b)
      // 40 sockets over 20 groups: about 2 per 50 ms, never all at once.
      const busiest = Math.max(
        ...pings.map((t) => pings.filter((u) => u >= t && u < t + 50).length),
      )
      expect(busiest).toBeLessThanOrEqual(8)
      expect((pings[39] ?? 0) - (pings[0] ?? 0)).toBeGreaterThan(500)
    })

    it('closes every socket with 4012 when the service stops', async () => {
      await setup()
      const c = await open(OWNER)
      await harness.service.stop()
      expect((await c.closed).code).toBe(PresenceCloseCode.ShuttingDown)
    })
  })

  describe('fan-out and measurement', () => {
    it('serialises each frame once per publish, whatever the number of recipients', async () => {
      await setup()
      const subscribers = await Promise.all([OWNER, PLAYER, OWNER, PLAYER].map((u) => open(u)))
      for (const c of subscribers) await subscribe(c, ROOM_A)
      for (const c of subscribers) await c.next('presence.snapshot')
      const spy = vi.spyOn(JSON, 'stringify')
      harness.voice.join(sf(70), CH_A)
      const calls = spy.mock.calls.length
      spy.mockRestore()
      expect(calls).toBe(1)
      for (const c of subscribers) await c.next('voice.joined')
    })

    it('records gateway-to-socket latency and counts frames, resumes and snapshots', async () => {
      await setup()
      const c = await open(OWNER)
      await subscribe(c, ROOM_A)
      const snapshot = await c.next('presence.snapshot')
      // The service's own clock (performance-based): Date.now() may be stepped apart from it.
      harness.voice.join(PLAYER, CH_A, performance.timeOrigin + performance.now() - 40)
      await c.next('voice.joined')
      const again = await open(OWNER)
      await subscribe(again, ROOM_A, { since: snapshot.seq, epoch: snapshot.epoch })
      await again.next('voice.joined')
      const health = harness.service.health()
      expect(health.sockets).toBe(2)
      expect(health.subscriptions).toBe(2)
      // The live delivery is a latency sample; the replay (its age includes the time the client
      // was away) is counted as a frame sent but not as a latency.
      expect(health.latencyMs.samples).toBe(1)
      expect(health.latencyMs.p50).toBeGreaterThanOrEqual(40)
      const text = await harness.service.metricsText()
      expect(text).toMatch(/presence_gateway_to_socket_seconds_count \d+/)
      expect(text).toContain('presence_subscribes_total{mode="snapshot"} 1')
      expect(text).toContain('presence_subscribes_total{mode="resume"} 1')
      expect(text).toContain('presence_frames_sent_total{type="voice.joined"} 2')
      expect(text).toContain('presence_sockets 2')
    })
  })
})
