import type { RedisServer } from '@repo/process-harness'
import { pidAlive, startRedisServer, stopAll, waitUntil } from '@repo/process-harness'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import type { ClusteredVoiceFeed } from '../src/cluster/clustered-feed'
import { voiceFeedKeys } from '../src/cluster/keys'
import {
  clusteredFeed,
  expectConsecutive,
  expectSnapshotEqualsTruth,
  FeedRecorder,
  PREFIX,
} from './support/cluster'
import type { GatewayWorker } from './support/failover-world'
import { describeEvent, startGatewayWorker, VoiceTraffic } from './support/failover-world'
import { streamEntries } from './support/feed'
import type { Emulator } from './support/harness'
import { eventually, startTestEmulator, voiceChannels } from './support/harness'

/**
 * The failover with real processes: gateway workers by pid, a redis-server of the test's own,
 * the emulator and ~100 voice changes a second. Each test is bounded and leaves nothing running.
 */
const LEASE_MS = 1_500
const RATE = 100
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await stopAll(2_000)
})

interface World {
  emu: Emulator
  redis: RedisServer
  workers: GatewayWorker[]
  reader: ClusteredVoiceFeed
  seen: FeedRecorder
  traffic: VoiceTraffic
  admin: Redis
}

async function world(workerCount: number, leaseMs = LEASE_MS): Promise<World> {
  // HELLO every 3 s: the emulator drops a silent socket after 5.5 s, longer than a handover, so
  // a paused leader is still attached when the next one resumes (the takeover case).
  const emu = await startTestEmulator({ heartbeatIntervalMs: 3_000, resumeWindowMs: 60_000 })
  cleanups.push(() => emu.close())
  const redis = await startRedisServer()
  cleanups.push(() => redis.stop())
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true })
  admin.on('error', () => {})
  cleanups.push(() => admin.disconnect())
  const users: string[] = []
  for (let i = 0; i < 8; i++) users.push(emu.control.createUser({ username: `player${i}` }).id)
  const channels = voiceChannels(emu)
  for (const [i, userId] of users.entries()) {
    if (i % 2 === 0)
      emu.control.setVoice({ userId, channelId: channels[i % channels.length] as string })
  }
  const workers = await Promise.all(
    Array.from({ length: workerCount }, (_, i) =>
      startGatewayWorker({
        name: `worker-${i + 1}`,
        emulator: emu,
        redisUrl: redis.url,
        prefix: PREFIX,
        leaseMs,
        env: { GATEWAY_STREAM_MAXLEN: '1000000' },
      }),
    ),
  )
  await waitUntil(async () => (await leaderOf(workers)) !== null, 20_000, 'a leader')
  const reader = clusteredFeed(redis.url, emu, { candidate: false, leaseMs })
  cleanups.push(() => reader.stop())
  await reader.start()
  await reader.ready(10_000)
  const seen = new FeedRecorder(reader)
  const traffic = new VoiceTraffic(emu, users, channels)
  cleanups.push(() => traffic.stop())
  return { emu, redis, workers, reader, seen, traffic, admin }
}

async function leaderOf(workers: GatewayWorker[]): Promise<GatewayWorker | null> {
  const healths = await Promise.all(workers.map((w) => (w.process.alive ? w.health() : null)))
  const leaders = workers.filter((_, i) => healths[i]?.isLeader && healths[i]?.lastHandover?.mode)
  return leaders.length === 1 ? (leaders[0] as GatewayWorker) : null
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Every voice change exactly once and in order, in the stream and on the reader. */
async function expectExactlyOnce(w: World): Promise<void> {
  await eventually(() => expectSnapshotEqualsTruth(w.emu, w.reader), 15_000)
  const entries = await streamEntries(w.admin, voiceFeedKeys(PREFIX, w.emu.guildId))
  expectConsecutive(entries.map((e) => e.feedSeq))
  const streamed = entries.map((e) => describeEvent(e.event as NonNullable<typeof e.event>))
  // The generator's changes are the stream's tail (what came before is the first GUILD_CREATE).
  expect(streamed.slice(-w.traffic.expected.length)).toEqual(w.traffic.expected)
  expect(streamed.length - w.traffic.expected.length).toBe(4) // the four users in voice at the start
  expect(w.seen.streamEvents().map(describeEvent)).toEqual(w.traffic.expected)
  expect(w.seen.resyncs).toEqual([])
}

describe('gateway failover between worker processes', () => {
  it('kill -9 of the leader under 100 events/s: the next one resumes within lease + 2 s, every change once and in order, no IDENTIFY', async () => {
    const w = await world(3)
    const before = w.emu.control.stats()
    w.traffic.start(RATE)
    await sleep(1_500)
    const leader = (await leaderOf(w.workers)) as GatewayWorker
    const oldToken = (await leader.health())?.token as number
    const killedAt = Date.now()
    await leader.process.kill()
    await waitUntil(
      () => w.emu.control.stats().resumes > before.resumes,
      LEASE_MS + 5_000,
      'a RESUME',
    )
    const handoverMs = Date.now() - killedAt
    // A node that starts in the middle of the traffic: its snapshot and the stream after it fit.
    const late = clusteredFeed(w.redis.url, w.emu, { candidate: false, leaseMs: LEASE_MS })
    cleanups.push(() => late.stop())
    await late.start()
    await late.ready(5_000)
    const lateSeen = new FeedRecorder(late)
    const lateFrom = late.snapshot(w.emu.guildId).feedSeq
    await sleep(1_500)
    w.traffic.stop()
    expect(handoverMs).toBeLessThanOrEqual(LEASE_MS + 2_000)
    const next = (await waitUntil(
      () => leaderOf(w.workers),
      5_000,
      'the new leader',
    )) as GatewayWorker
    const health = await next.health()
    expect(health).toMatchObject({ isLeader: true, lastHandover: { mode: 'resumed' } })
    expect(health?.token).toBeGreaterThan(oldToken)
    await expectExactlyOnce(w)
    expect(w.emu.control.stats()).toMatchObject({
      identifies: before.identifies,
      resumes: before.resumes + 1,
    })
    expect(w.traffic.changes).toBeGreaterThan(200)
    await eventually(() => expectSnapshotEqualsTruth(w.emu, late))
    const entries = await streamEntries(w.admin, voiceFeedKeys(PREFIX, w.emu.guildId))
    expect(lateSeen.streamEvents()).toEqual(
      entries.filter((e) => e.feedSeq > lateFrom).map((e) => e.event),
    )
    expect(lateSeen.resyncs).toEqual([])
    console.info(
      `kill -9 handover: RESUMED ${handoverMs} ms after the kill (lease ${LEASE_MS} ms), handover ${health?.lastHandover?.durationMs} ms after the lease`,
    )
  }, 60_000)

  it('SIGSTOP of the leader past its lease: another takes over; after SIGCONT the old one steps down by itself, never reconnects, nothing lost or doubled', async () => {
    const w = await world(3)
    const before = w.emu.control.stats()
    w.traffic.start(RATE)
    await sleep(1_000)
    const old = (await leaderOf(w.workers)) as GatewayWorker
    old.process.pause()
    const others = w.workers.filter((x) => x !== old)
    const next = (await waitUntil(
      () => leaderOf(others),
      LEASE_MS + 5_000,
      'another leader',
    )) as GatewayWorker
    await waitUntil(() => w.emu.control.stats().resumes > before.resumes, 5_000, 'a RESUME')
    expect(w.emu.control.stats().sessionTakeovers).toBe(before.sessionTakeovers + 1) // it was still attached
    await sleep(1_000) // traffic flows to the new leader while the old one is frozen
    old.process.resume()
    const stale = await waitUntil(
      async () => {
        const h = await old.health()
        return h && h.stepDowns >= 1 && h.state === 'candidate' ? h : null
      },
      5_000,
      'the old leader to step down',
    )
    // Its own monotonic clock told it the lease was too old, before it wrote or connected anything.
    expect(stale).toMatchObject({
      isLeader: false,
      lastStepDown: { reason: 'gateway lease lost (expired)' },
    })
    await sleep(1_000)
    w.traffic.stop()
    expect(await next.health()).toMatchObject({ isLeader: true, stepDowns: 0 })
    await expectExactlyOnce(w)
    // It never opened a socket on the session again (the emulator's 4000 invites a resume), and nobody identified.
    expect(w.emu.control.stats()).toMatchObject({
      identifies: before.identifies,
      resumes: before.resumes + 1,
    })
    const entries = await streamEntries(w.admin, voiceFeedKeys(PREFIX, w.emu.guildId))
    const tokens = entries.map((e) => e.token)
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b)) // no write of the old token after the new one
  }, 60_000)

  it('a Redis failover that lost the lease while the leader was frozen: its writes after SIGCONT are refused by the fence and it steps down, nothing lost or doubled', async () => {
    // A longer lease: the old leader must come back while its own clock still trusts the lease,
    // so that only the fencing token can stop its writes.
    const leaseMs = 5_000
    const w = await world(3, leaseMs)
    const before = w.emu.control.stats()
    w.traffic.start(RATE)
    await sleep(1_000)
    const old = (await leaderOf(w.workers)) as GatewayWorker
    const oldToken = (await old.health())?.token as number
    old.process.pause()
    const pausedAt = Date.now()
    // The promoted replica never got the lease key (asynchronous replication): a candidate takes it.
    await w.admin.del(`${PREFIX}gateway:shard:0:1:lease`)
    const others = w.workers.filter((x) => x !== old)
    const next = (await waitUntil(() => leaderOf(others), 5_000, 'another leader')) as GatewayWorker
    await waitUntil(() => w.emu.control.stats().resumes > before.resumes, 5_000, 'a RESUME')
    expect(Date.now() - pausedAt).toBeLessThan(leaseMs * 0.8 - 500) // the old one still trusts its lease
    old.process.resume()
    const stale = await waitUntil(
      async () => {
        const h = await old.health()
        return h && h.stepDowns >= 1 && h.state === 'candidate' ? h : null
      },
      5_000,
      'the old leader to step down',
    )
    expect(stale.fenceRefusals).toBeGreaterThanOrEqual(1)
    expect(stale.isLeader).toBe(false)
    await old.process.waitForLine(/refused by the fencing token/, 2_000)
    await sleep(1_000)
    w.traffic.stop()
    const health = await next.health()
    expect(health).toMatchObject({
      isLeader: true,
      stepDowns: 0,
      lastHandover: { mode: 'resumed' },
    })
    expect(health?.token).toBeGreaterThan(oldToken)
    await expectExactlyOnce(w)
    expect(w.emu.control.stats()).toMatchObject({
      identifies: before.identifies,
      resumes: before.resumes + 1,
    })
    const tokens = (await streamEntries(w.admin, voiceFeedKeys(PREFIX, w.emu.guildId))).map(
      (e) => e.token,
    )
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b))
  }, 60_000)

  it('Redis killed and restarted (empty) under traffic: no process crashes, the reader converges to the truth', async () => {
    const w = await world(2)
    w.traffic.start(RATE)
    await sleep(1_000)
    await w.redis.restart()
    await sleep(2_000)
    w.traffic.stop()
    await eventually(() => expectSnapshotEqualsTruth(w.emu, w.reader), 20_000)
    expect(w.workers.every((x) => x.process.alive && pidAlive(x.process.pid))).toBe(true)
    await waitUntil(() => leaderOf(w.workers), 10_000, 'one leader')
    await eventually(
      () =>
        expect(w.reader.status()).toMatchObject({ health: 'ok', mirror: { state: 'following' } }),
      10_000,
    )
    expect(w.seen.resyncs.length).toBeGreaterThanOrEqual(1)
  }, 60_000)
})
