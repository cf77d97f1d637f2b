import { shardOf } from '@repo/discord-emulator'
import { afterEach, describe, expect, it } from 'vitest'
import type { ClusteredVoiceFeed } from '../src/cluster/clustered-feed'
import { guildKeys, voiceFeedKeys } from '../src/cluster/keys'
import { clusteredFeed, PREFIX } from './support/cluster'
import { streamEntries } from './support/feed'
import { FeedLog, humans, nth, withGuilds } from './support/guilds'
import type { Emulator } from './support/harness'
import { eventually, startTestEmulator } from './support/harness'
import { useRedisServer } from './support/redis'

/** Resharding with Redis, the gateway candidates in the web nodes (GATEWAY_MODE=in-process). */
const redis = useRedisServer()
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function feed(emu: Emulator, options: Parameters<typeof clusteredFeed>[2]): ClusteredVoiceFeed {
  const f = clusteredFeed(redis.url, emu, options)
  cleanups.push(() => f.stop())
  return f
}

async function emulator(): Promise<Emulator> {
  const emu = await startTestEmulator({ guildsPerShard: 3 })
  cleanups.push(() => emu.close())
  return emu
}

describe('resharding on Redis (in-process candidates)', () => {
  it('close 4011: both nodes move to the recommended count and every guild’s voice state is kept', async () => {
    const emu = await emulator()
    const first = withGuilds(emu, 1)
    const people = humans(emu)
    const [a, b, c] = [nth(people, 0), nth(people, 1), nth(people, 2)]
    emu.control.setVoice({ userId: a, channelId: nth(first, 0).voice })
    emu.control.setVoice({ userId: b, channelId: nth(first, 1).voice })
    const one = feed(emu, { holderId: 'node-a' })
    const two = feed(emu, { holderId: 'node-b' })
    await Promise.all([one.start(), two.start()])
    await one.ready(10_000)
    await eventually(() =>
      expect(one.status().shards.map((s) => s.leader !== null)).toEqual([true]),
    )
    expect(one.status().shardCount).toBe(1)

    const all = withGuilds(emu, 3)
    await eventually(() => expect(one.guilds()).toHaveLength(5))
    const before = Object.fromEntries(all.map((g) => [g.id, one.snapshot(g.id).feedSeq]))
    const log = new FeedLog(one)
    emu.control.setVoice({ userId: c, channelId: nth(all, 3).voice })
    emu.control.setVoice({ userId: a, channelId: null })
    emu.control.restart() // the next IDENTIFY as [0, 1] would hold 5 > 3 guilds: 4011

    for (const node of [one, two]) {
      await eventually(() => {
        const status = node.status()
        expect(status.shardCount).toBe(2)
        expect(status.reshards).toBe(1)
        expect(status.shards.map((s) => [s.id, s.count, s.leader !== null])).toEqual([
          [0, 2, true],
          [1, 2, true],
        ])
        expect(status.health).toBe('ok')
      }, 20_000)
    }
    await eventually(() => {
      expect(one.memberChannel(nth(all, 3).id, c)).toBe(nth(all, 3).voice)
      expect(one.memberChannel(nth(all, 0).id, a)).toBeNull()
      expect(one.guilds().map((g) => g.shardId)).toEqual(one.guilds().map((g) => shardOf(g.id, 2)))
    })
    expect(one.memberChannel(nth(all, 1).id, b)).toBe(nth(all, 1).voice)
    expect(log.guild()).toEqual([])
    expect(
      log.voice().map((e) => [e.guildId, e.type, e.userId, e.feedSeq - (before[e.guildId] ?? 0)]),
    ).toEqual(
      expect.arrayContaining([
        [nth(all, 0).id, 'voice.left', a, 1],
        [nth(all, 3).id, 'voice.joined', c, 1],
      ]),
    )
    expect(log.voice()).toHaveLength(2)
  })

  it('a pinned count that is not the deployment’s: its writes are refused and it stops competing with an alert', async () => {
    const emu = await emulator()
    const guild = nth(withGuilds(emu, 0), 0)
    const people = humans(emu)
    const pinned = feed(emu, { holderId: 'pinned', shardCount: 1 })
    await pinned.start()
    await pinned.ready(10_000)
    await eventually(() => expect(pinned.status().isLeader).toBe(true))
    emu.control.setVoice({ userId: nth(people, 0), channelId: guild.voice })
    await eventually(() => expect(pinned.memberChannel(guild.id, nth(people, 0))).toBe(guild.voice))
    const admin = redis.client()
    const keys = voiceFeedKeys(PREFIX, guild.id)
    const written = (await streamEntries(admin, keys)).length

    await admin.set(guildKeys(PREFIX).shardCount, '2') // another node was started pinned to 2
    emu.control.setVoice({ userId: nth(people, 1), channelId: guild.voice })
    await eventually(() => {
      const status = pinned.status()
      expect(status.candidate?.state).toBe('stopped')
      expect(status.reasons).toContain(
        'the deployment runs 2 shards, this candidate 1 (DISCORD_SHARD_COUNT): set the same count on every node',
      )
      expect(status.health).toBe('degraded')
    })
    expect((await streamEntries(admin, keys)).length).toBe(written)
  })
})
