import { startRedisServer, stopAll, waitUntil } from '@repo/process-harness'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { gatewayKeys, guildKeys, voiceFeedKeys } from '../src/cluster/keys'
import { clusteredFeed, expectConsecutive, PREFIX } from './support/cluster'
import type { GatewayWorker } from './support/failover-world'
import { startGatewayWorker } from './support/failover-world'
import { streamEntries } from './support/feed'
import { expectOnlyChanges, FeedLog, humans, nth, withGuilds } from './support/guilds'
import { startTestEmulator } from './support/harness'

/**
 * Close 4011 with several processes and no DISCORD_SHARD_COUNT: two worker processes compete for
 * every shard. The bot outgrows its single shard; the next IDENTIFY is refused with 4011, the
 * deployment moves to the recommended count in Redis, both workers follow it, the new shards
 * spread over them, and every guild's voice state is kept: only what changed meanwhile is
 * announced, each guild's feedSeq continuing without a gap.
 */
const LEASE_MS = 1_500
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await stopAll(2_000)
})

interface ShardHealth {
  shard: { id: number; count: number }
  isLeader: boolean
  lastHandover: unknown
  alert: string | null
}
type Health = { status: string; shardCount: number | null; reshards: number; shards: ShardHealth[] }

async function healths(workers: GatewayWorker[]): Promise<(Health | null)[]> {
  return Promise.all(workers.map(async (w) => (await w.health()) as unknown as Health | null))
}

/** For each shard of `count`: the workers leading it (with their handover done). */
async function leadersByShard(workers: GatewayWorker[], count: number): Promise<string[][]> {
  const all = await healths(workers)
  return Array.from({ length: count }, (_, id) =>
    workers
      .filter((_, i) =>
        all[i]?.shards.some(
          (s) =>
            s.shard.id === id && s.shard.count === count && s.isLeader && s.lastHandover !== null,
        ),
      )
      .map((w) => w.name),
  )
}

describe('close 4011 with several gateway processes', () => {
  it('moves every process to more shards by itself, keeping every guild’s voice state', async () => {
    const emu = await startTestEmulator({ guildsPerShard: 3, heartbeatIntervalMs: 1_000 })
    cleanups.push(() => emu.close())
    const first = withGuilds(emu, 1)
    const people = humans(emu)
    const [a, b, c] = [nth(people, 0), nth(people, 1), nth(people, 2)]
    emu.control.setVoice({ userId: a, channelId: nth(first, 0).voice })
    emu.control.setVoice({ userId: b, channelId: nth(first, 1).voice })
    const redis = await startRedisServer()
    cleanups.push(() => redis.stop())
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 })
    cleanups.push(() => admin.disconnect())

    const start = (name: string) =>
      startGatewayWorker({
        name,
        emulator: emu,
        redisUrl: redis.url,
        prefix: PREFIX,
        leaseMs: LEASE_MS,
        env: { LOG_LEVEL: 'warn' },
      })
    const workers = await Promise.all([start('w1'), start('w2')])
    await waitUntil(
      async () => (await leadersByShard(workers, 1))[0]?.length === 1,
      20_000,
      'a leader of the single shard',
    )
    expect(await admin.get(guildKeys(PREFIX).shardCount)).toBe('1')
    const reader = clusteredFeed(redis.url, emu, { candidate: false, leaseMs: LEASE_MS })
    cleanups.push(() => reader.stop())
    await reader.start()
    await reader.ready(10_000)

    // The bot joins three more guilds: the live session keeps them (Discord checks at IDENTIFY).
    const all = withGuilds(emu, 3)
    await waitUntil(() => reader.guilds().length === 5, 10_000, 'five guilds on the reader')
    const before = Object.fromEntries(all.map((g) => [g.id, reader.snapshot(g.id).feedSeq]))
    const log = new FeedLog(reader)

    // Sessions forgotten: the next IDENTIFY as shard [0, 1] would hold 5 > 3 guilds (4011).
    emu.control.setVoice({ userId: c, channelId: nth(all, 3).voice })
    emu.control.setVoice({ userId: a, channelId: null })
    // Every worker's health all along the reshard: never degraded while it replaces its shards.
    await waitUntil(
      async () => (await healths(workers)).every((h) => h?.status === 'ok'),
      10_000,
      'both workers competing',
    )
    const statuses = new Set<string>()
    let polling = true
    const poll = (async () => {
      while (polling) {
        for (const health of await healths(workers)) if (health) statuses.add(health.status)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    cleanups.push(() => {
      polling = false
      return poll
    })
    emu.control.restart()

    await waitUntil(
      async () => {
        const leaders = await leadersByShard(workers, 2)
        return leaders.every((names) => names.length === 1)
      },
      45_000,
      'one leader for each of two shards',
    )
    polling = false
    await poll
    expect([...statuses].sort()).toEqual(['ok', 'resharding'])
    expect(await admin.get(guildKeys(PREFIX).shardCount)).toBe('2')
    // The old count's session is gone: nobody resumes a count that no longer runs.
    expect(await admin.exists(gatewayKeys(PREFIX, { id: 0, count: 1 }).session)).toBe(0)
    for (const health of await healths(workers)) {
      expect(health).toMatchObject({ status: 'ok', shardCount: 2, reshards: 1 })
      expect(health?.shards.map((s) => [s.shard.id, s.shard.count])).toEqual([
        [0, 2],
        [1, 2],
      ])
    }
    // The shards spread: each worker leads one.
    const leaders = await leadersByShard(workers, 2)
    expect(new Set(leaders.flat()).size).toBe(2)

    await waitUntil(
      () =>
        reader.memberChannel(nth(all, 3).id, c) === nth(all, 3).voice &&
        reader.memberChannel(nth(all, 0).id, a) === null,
      15_000,
      'the changes made during the reshard',
    )
    // Nothing lost, nothing replayed: the two changes, each guild's feedSeq continuing.
    expect(reader.memberChannel(nth(all, 1).id, b)).toBe(nth(all, 1).voice)
    expectOnlyChanges(log, before, [
      [nth(all, 0).id, 'voice.left', a],
      [nth(all, 3).id, 'voice.joined', c],
    ])
    // The reader reads the count once a second.
    await waitUntil(() => reader.status().shardCount === 2, 5_000, 'the reader to see two shards')
    expect(reader.status().health).toBe('ok')

    // The new shards carry on: a change in every guild reaches the reader, in order.
    for (const [i, guild] of all.entries()) {
      emu.control.setVoice({ userId: nth(people, i % people.length), channelId: guild.voice })
    }
    await waitUntil(
      () =>
        all.every(
          (guild, i) =>
            reader.memberChannel(guild.id, nth(people, i % people.length)) === guild.voice,
        ),
      10_000,
      'a change in every guild after the reshard',
    )
    for (const guild of all) {
      const entries = await streamEntries(admin, voiceFeedKeys(PREFIX, guild.id))
      expectConsecutive(entries.map((e) => e.feedSeq))
    }
  }, 90_000)
})
