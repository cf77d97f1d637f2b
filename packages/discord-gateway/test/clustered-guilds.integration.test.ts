import { shardOf } from '@repo/discord-emulator'
import { afterEach, describe, expect, it } from 'vitest'
import type { ClusteredVoiceFeed } from '../src/cluster/clustered-feed'
import { guildKeys, voiceFeedKeys } from '../src/cluster/keys'
import { clusteredFeed, PREFIX } from './support/cluster'
import { streamEntries } from './support/feed'
import {
  expectOnlyChanges,
  FeedLog,
  gapFreePerGuild,
  humans,
  nth,
  withGuilds,
} from './support/guilds'
import type { Emulator } from './support/harness'
import { eventually, startTestEmulator } from './support/harness'
import { useRedisServer } from './support/redis'

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

describe('the clustered feed with several guilds and shards', () => {
  it('five guilds on two shards: a lease per shard, a stream per guild, every node follows every guild', async () => {
    const emu = await emulator()
    const guilds = withGuilds(emu, 4)
    const people = humans(emu)
    const a = feed(emu, { holderId: 'node-a' })
    const b = feed(emu, { holderId: 'node-b' })
    const reader = feed(emu, { candidate: false })
    await Promise.all([a.start(), b.start(), reader.start()])
    await reader.ready(10_000)
    const log = new FeedLog(reader)
    expect(reader.guilds()).toEqual(
      guilds
        .map((g) => ({ id: g.id, name: g.name, available: true, shardId: shardOf(g.id, 2) }))
        .sort((x, y) => (x.id < y.id ? -1 : 1)),
    )
    await eventually(() => {
      const status = reader.status()
      expect(status.shardCount).toBe(2)
      expect(status.shards.map((s) => [s.id, s.count, s.leader !== null])).toEqual([
        [0, 2, true],
        [1, 2, true],
      ])
      expect(status.health).toBe('ok')
    })
    // Each shard is led by exactly one of the two nodes, on its own lease, and the shards spread
    // over the nodes (a node leading one shard lets a free one go to a node leading none).
    await eventually(() => {
      for (const id of [0, 1]) {
        expect([a, b].filter((n) => n.status().shards[id]?.isLeader)).toHaveLength(1)
      }
    })
    expect(a.status().shards.filter((s) => s.isLeader)).toHaveLength(1)
    expect(b.status().shards.filter((s) => s.isLeader)).toHaveLength(1)
    expect(emu.control.stats().identifies).toBe(2)

    const placed = new Map<string, string>()
    guilds.forEach((g, i) => {
      const userId = nth(people, i % people.length)
      placed.set(userId, g.id)
      emu.control.setVoice({ userId, channelId: g.voice })
    })
    for (const node of [reader, a, b]) {
      await eventually(() => {
        for (const [userId, guildId] of placed) {
          const voice = guilds.find((g) => g.id === guildId)?.voice as string
          expect(node.memberChannel(guildId, userId)).toBe(voice)
          expect(node.channelMembers(voice).map((m) => m.userId)).toContain(userId)
        }
      })
    }
    const events = log.voice()
    expect(gapFreePerGuild(events)).toBe(true)
    for (const g of guilds) {
      const own = log.voice(g.id)
      const start = reader.snapshot(g.id).feedSeq - own.length
      expect(own.map((e) => e.feedSeq)).toEqual(own.map((_, i) => start + i + 1))
    }
  })

  it('guild joins, outages and removals reach every node, in order, and touch nothing else', async () => {
    const emu = await emulator()
    const two = withGuilds(emu, 1)
    const [g1, g2] = [nth(two, 0), nth(two, 1)]
    const [u0, u1, u2] = [nth(humans(emu), 0), nth(humans(emu), 1), nth(humans(emu), 2)]
    emu.control.setVoice({ userId: u0, channelId: g1.voice })
    emu.control.setVoice({ userId: u1, channelId: g2.voice })
    const leader = feed(emu, { holderId: 'leader' })
    const reader = feed(emu, { candidate: false })
    await leader.start()
    await reader.start()
    await reader.ready(10_000)
    await leader.ready(10_000)
    const logs = [new FeedLog(reader), new FeedLog(leader)]

    const g3 = nth(withGuilds(emu, 1), 2)
    emu.control.setVoice({ userId: u2, channelId: g3.voice })
    for (const [i, node] of [reader, leader].entries()) {
      await eventually(() => expect(node.memberChannel(g3.id, u2)).toBe(g3.voice))
      expect(nth(logs, i).guild()).toEqual([
        { type: 'guild.available', guildId: g3.id, name: g3.name },
      ])
      expect(node.guilds().map((g) => g.id)).toContain(g3.id)
    }

    emu.control.setGuildAvailable({ guildId: g2.id, available: false })
    for (const [i, node] of [reader, leader].entries()) {
      await eventually(() =>
        expect(nth(logs, i).guild().at(-1)).toEqual({ type: 'guild.unavailable', guildId: g2.id }),
      )
      expect(node.guilds().find((g) => g.id === g2.id)?.available).toBe(false)
      expect(node.memberChannel(g2.id, u1)).toBe(g2.voice) // kept
    }
    emu.control.setGuildAvailable({ guildId: g2.id, available: true })
    for (const log of logs) {
      await eventually(() =>
        expect(log.guild().at(-1)).toMatchObject({ type: 'guild.available', guildId: g2.id }),
      )
    }

    const before = [g2, g3].map((g) => reader.snapshot(g.id).members)
    const marks = logs.map((l) => l.entries.length)
    emu.control.setBotMembership({ guildId: g1.id, member: false })
    for (const [i, node] of [reader, leader].entries()) {
      const log = nth(logs, i)
      await eventually(() =>
        expect(log.guild().at(-1)).toEqual({ type: 'guild.removed', guildId: g1.id }),
      )
      expect(log.entries.slice(nth(marks, i))).toEqual([
        {
          kind: 'voice',
          event: expect.objectContaining({
            type: 'voice.left',
            guildId: g1.id,
            userId: u0,
            reason: 'guild_removed',
          }),
        },
        { kind: 'guild', change: { type: 'guild.removed', guildId: g1.id } },
      ])
      expect(node.guilds().map((g) => g.id)).not.toContain(g1.id)
      expect(node.memberChannel(g1.id, u0)).toBeNull()
      expect(node.channelMembers(g1.voice)).toEqual([])
    }
    expect([g2, g3].map((g) => reader.snapshot(g.id).members)).toEqual(before)
    expect(reader.status().health).toBe('ok')
  })
})

/** Resharding with Redis, the gateway candidates in the web nodes (GATEWAY_MODE=in-process). */
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
    expectOnlyChanges(log, before, [
      [nth(all, 0).id, 'voice.left', a],
      [nth(all, 3).id, 'voice.joined', c],
    ])
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
