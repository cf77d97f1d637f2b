import { shardOf } from '@repo/discord-emulator'
import { startRedisServer, stopAll, waitUntil } from '@repo/process-harness'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { voiceFeedKeys } from '../src/cluster/keys'
import { clusteredFeed, expectConsecutive, PREFIX } from './support/cluster'
import type { GatewayWorker } from './support/failover-world'
import { describeEvent, startGatewayWorker, VoiceTraffic } from './support/failover-world'
import { streamEntries } from './support/feed'
import { withGuilds } from './support/guilds'
import { startTestEmulator } from './support/harness'

/**
 * Two shards led by worker processes (two candidates for shard 0, one for shard 1), five guilds
 * with their own players and traffic. Killing shard 0's leader pauses only shard 0's guilds; they
 * resume (RESUME, no IDENTIFY) without losing or doubling a change, and shard 1 never stops.
 */
const LEASE_MS = 1_500
const PER_GUILD_RATE = 20
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await stopAll(2_000)
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The worker leading `shardId` (with its handover done), if exactly one does. */
async function leaderOf(workers: GatewayWorker[], shardId: number): Promise<GatewayWorker | null> {
  const healths = await Promise.all(workers.map((w) => (w.process.alive ? w.health() : null)))
  const leaders = workers.filter((_, i) => {
    const shard = (
      healths[i] as unknown as {
        shards?: { shard: { id: number }; isLeader: boolean; lastHandover: unknown }[]
      } | null
    )?.shards?.find((s) => s.shard.id === shardId)
    return shard?.isLeader === true && shard.lastHandover !== null
  })
  return leaders.length === 1 ? (leaders[0] as GatewayWorker) : null
}

/** The largest gap between consecutive instants within [from, to] (the window's edges count). */
function largestGap(instants: number[], from: number, to: number): number {
  const inside = [from, ...instants.filter((t) => t > from && t < to), to]
  let gap = 0
  for (let i = 1; i < inside.length; i++)
    gap = Math.max(gap, (inside[i] as number) - (inside[i - 1] as number))
  return gap
}

describe('a shard leader killed (worker processes)', () => {
  it('only that shard’s guilds pause, then resume without loss; the other shard never stops', async () => {
    const emu = await startTestEmulator({
      guildsPerShard: 3,
      heartbeatIntervalMs: 3_000,
      resumeWindowMs: 60_000,
    })
    cleanups.push(() => emu.close())
    const guilds = withGuilds(emu, 4, 2)
    const redis = await startRedisServer()
    cleanups.push(() => redis.stop())
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 })
    cleanups.push(() => admin.disconnect())

    // Each guild's own players, so a move never crosses guilds.
    const traffics = guilds.map((g, gi) => {
      const users = Array.from(
        { length: 3 },
        (_, i) => emu.control.createUser({ username: `g${gi}p${i}` }).id,
      )
      for (const userId of users) emu.control.addMember({ guildId: g.id, userId })
      const channels =
        gi === 0
          ? emu.control
              .state()
              .channels.filter((c) => c.type === 2)
              .map((c) => c.id)
          : g.voices
      return { guild: g, traffic: new VoiceTraffic(emu, users, channels, 7 + gi) }
    })
    cleanups.push(() => {
      for (const t of traffics) t.traffic.stop()
    })

    const env = { DISCORD_SHARD_COUNT: '2', GATEWAY_STREAM_MAXLEN: '1000000' }
    const start = (name: string, shards: string) =>
      startGatewayWorker({
        name,
        emulator: emu,
        redisUrl: redis.url,
        prefix: PREFIX,
        leaseMs: LEASE_MS,
        env: { ...env, GATEWAY_SHARD_IDS: shards },
      })
    const workers = await Promise.all([start('s0-a', '0'), start('s0-b', '0'), start('s1', '1')])
    for (const shardId of [0, 1]) {
      await waitUntil(
        async () => (await leaderOf(workers, shardId)) !== null,
        20_000,
        `shard ${shardId}'s leader`,
      )
    }
    const reader = clusteredFeed(redis.url, emu, { candidate: false, leaseMs: LEASE_MS })
    cleanups.push(() => reader.stop())
    await reader.start()
    await reader.ready(10_000)
    expect(reader.status().shardCount).toBe(2)
    const arrivals = new Map<string, number[]>(guilds.map((g) => [g.id, []]))
    const seen = new Map<string, ReturnType<typeof describeEvent>[]>(guilds.map((g) => [g.id, []]))
    reader.subscribe((event, origin) => {
      if (origin.kind !== 'stream') return
      arrivals.get(event.guildId)?.push(Date.now())
      seen.get(event.guildId)?.push(describeEvent(event))
    })
    const before = emu.control.stats()

    for (const t of traffics) t.traffic.start(PER_GUILD_RATE)
    await sleep(1_500)
    const leader = (await leaderOf(workers, 0)) as GatewayWorker
    const killedAt = Date.now()
    await leader.process.kill()
    await waitUntil(
      () => emu.control.stats().resumes > before.resumes,
      LEASE_MS + 5_000,
      'a RESUME',
    )
    const resumedAt = Date.now()
    await sleep(1_500)
    for (const t of traffics) t.traffic.stop()
    const next = await waitUntil(() => leaderOf(workers, 0), 5_000, 'shard 0’s new leader')
    expect(next?.name).not.toBe(leader.name)

    // Every change once and in order, in each guild's stream and on the reader.
    const truth = () =>
      Object.fromEntries(
        emu.control
          .state()
          .guilds.map((g) => [
            g.id,
            g.voiceStates.map((v) => `${v.userId}:${v.channelId}:${v.selfMute}`).sort(),
          ]),
      )
    await waitUntil(
      () =>
        JSON.stringify(truth()) ===
        JSON.stringify(
          Object.fromEntries(
            guilds.map((g) => [
              g.id,
              reader
                .snapshot(g.id)
                .members.map((m) => `${m.userId}:${m.channelId}:${m.selfMute}`)
                .sort(),
            ]),
          ),
        ),
      15_000,
      'the reader to show the truth of every guild',
    )
    for (const { guild, traffic } of traffics) {
      expect(traffic.expected.length).toBeGreaterThan(20)
      const entries = await streamEntries(admin, voiceFeedKeys(PREFIX, guild.id))
      expectConsecutive(entries.map((e) => e.feedSeq))
      const streamed = entries.map((e) => describeEvent(e.event as NonNullable<typeof e.event>))
      expect(streamed.slice(-traffic.expected.length), guild.id).toEqual(traffic.expected)
      expect(seen.get(guild.id), guild.id).toEqual(traffic.expected)
    }
    expect(emu.control.stats()).toMatchObject({
      identifies: before.identifies,
      resumes: before.resumes + 1,
    })

    // Only shard 0's guilds paused (about a lease); shard 1's kept flowing all along.
    const window = [killedAt - 200, resumedAt + 200] as const
    for (const g of guilds) {
      const gap = largestGap(arrivals.get(g.id) ?? [], ...window)
      if (shardOf(g.id, 2) === 0) expect(gap, `shard 0 guild ${g.id}`).toBeGreaterThan(LEASE_MS / 2)
      else expect(gap, `shard 1 guild ${g.id}`).toBeLessThan(LEASE_MS / 2)
    }
  }, 90_000)
})
