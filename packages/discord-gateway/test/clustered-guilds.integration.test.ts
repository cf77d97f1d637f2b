import { shardOf } from '@repo/discord-emulator'
import { afterEach, describe, expect, it } from 'vitest'
import type { ClusteredVoiceFeed } from '../src/cluster/clustered-feed'
import { clusteredFeed } from './support/cluster'
import { FeedLog, gapFreePerGuild, humans, nth, withGuilds } from './support/guilds'
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
