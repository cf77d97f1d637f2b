import { shardOf } from '@repo/discord-emulator'
import { describe, expect, it } from 'vitest'
import { FeedLog, gapFreePerGuild, humans, nth, withGuilds } from './support/guilds'
import { eventually, feedFor } from './support/harness'
import { useFeedCleanups } from './support/test-cleanups'

const { emulator, track } = useFeedCleanups()

describe('a sharded feed against the emulator', () => {
  it('five guilds on two shards: the count from GET /gateway/bot, one session per shard, every guild routed', async () => {
    const emu = await emulator({ guildsPerShard: 3 })
    const guilds = withGuilds(emu, 4)
    expect(emu.control.stats().recommendedShards).toBe(2)
    const people = humans(emu)
    const feed = track(feedFor(emu))
    const log = new FeedLog(feed)
    await feed.start()
    await feed.ready(8_000)
    expect(feed.guilds()).toEqual(
      guilds
        .map((g) => ({ id: g.id, name: g.name, available: true, shardId: shardOf(g.id, 2) }))
        .sort((a, b) => (a.id < b.id ? -1 : 1)),
    )
    const status = feed.status()
    expect(status.state).toBe('ready')
    expect(status.identifies).toBe(2)
    expect(status.shards).toEqual(
      [0, 1].map((id) => ({
        id,
        count: 2,
        state: 'ready',
        guilds: guilds.filter((g) => shardOf(g.id, 2) === id).length,
        unavailableGuilds: 0,
      })),
    )
    expect(
      emu.control
        .stats()
        .shards.filter((s) => s.activeSessions > 0)
        .map((s) => s.shard),
    ).toEqual([
      [0, 2],
      [1, 2],
    ])

    // A member in voice in each guild, then moves across guilds (on different shards).
    guilds.forEach((g, i) => {
      emu.control.setVoice({ userId: nth(people, i % people.length), channelId: g.voice })
    })
    // (with fewer people than guilds, a later join moves a person out of an earlier guild)
    const placed = new Map<string, string>()
    guilds.forEach((g, i) => {
      placed.set(nth(people, i % people.length), g.id)
    })
    await eventually(() => {
      for (const [userId, guildId] of placed) {
        const voice = guilds.find((g) => g.id === guildId)?.voice
        expect(feed.memberChannel(guildId, userId)).toBe(voice)
      }
    })
    for (const g of guilds) {
      expect(
        feed.channelMembers(g.voice).every((m) => feed.memberChannel(g.id, m.userId) === g.voice),
      ).toBe(true)
    }
    expect(gapFreePerGuild(log.voice())).toBe(true)
    for (const g of guilds) {
      const own = log.voice(g.id)
      expect(own.map((e) => e.feedSeq)).toEqual(own.map((_, i) => i + 1))
    }
  })

  it('identifies within the max_concurrency buckets: one bucket spaces the shards, two start together', async () => {
    const spacingMs = 700
    const readyGap = async (maxConcurrency: number): Promise<number> => {
      const readies: number[] = []
      const emu = await emulator({
        guildsPerShard: 3,
        maxConcurrency,
        identifyIntervalMs: spacingMs,
        onDispatch: ({ t, sentAt }) => {
          if (t === 'READY') readies.push(sentAt)
        },
      })
      withGuilds(emu, 4)
      const feed = track(
        feedFor(emu, {
          timings: {
            identifySpacingMs: spacingMs,
            defaultHeartbeatMs: 250,
            handshakeTimeoutMs: 2_000,
            helloTimeoutMs: 2_000,
            readyTimeoutMs: 3_000,
          },
        }),
      )
      await feed.start()
      await feed.ready(8_000)
      // Every IDENTIFY was accepted (an op 9 would have cost another one).
      expect(emu.control.stats().identifies).toBe(2)
      expect(readies).toHaveLength(2)
      return Math.abs(nth(readies, 1) - nth(readies, 0))
    }
    expect(await readyGap(1)).toBeGreaterThanOrEqual(spacingMs - 50)
    expect(await readyGap(2)).toBeLessThan(spacingMs / 2)
  })

  it('close 4011 re-reads the recommendation and reshards, keeping every guild’s voice state', async () => {
    const emu = await emulator({ guildsPerShard: 3 })
    const first = withGuilds(emu, 2)
    const people = humans(emu)
    const [a, b, c] = [nth(people, 0), nth(people, 1), nth(people, 2)]
    emu.control.setVoice({ userId: a, channelId: nth(first, 0).voice })
    emu.control.setVoice({ userId: b, channelId: nth(first, 1).voice })
    const feed = track(feedFor(emu))
    await feed.start()
    await feed.ready(8_000)
    expect(feed.status().shards.map((s) => s.count)).toEqual([1])
    // The bot joins two more guilds: the live session keeps them (Discord checks at IDENTIFY).
    const all = withGuilds(emu, 2)
    await eventually(() => expect(feed.guilds()).toHaveLength(5))
    const log = new FeedLog(feed)
    const before = Object.fromEntries(all.map((g) => [g.id, feed.snapshot(g.id)]))

    // The sessions are forgotten: the next IDENTIFY as shard [0, 1] would hold 5 > 3 guilds.
    emu.control.setVoice({ userId: c, channelId: nth(all, 3).voice })
    emu.control.setVoice({ userId: a, channelId: null })
    emu.control.restart()
    await eventually(() => {
      const status = feed.status()
      expect(status.reshards).toBe(1)
      expect(status.shards.map((s) => [s.id, s.count, s.state])).toEqual([
        [0, 2, 'ready'],
        [1, 2, 'ready'],
      ])
    }, 15_000)
    await eventually(() => {
      expect(feed.memberChannel(nth(all, 3).id, c)).toBe(nth(all, 3).voice)
      expect(feed.memberChannel(nth(all, 0).id, a)).toBeNull()
    })
    // Nothing lost, nothing replayed: only what changed meanwhile, each guild's feedSeq continuing.
    expect(feed.memberChannel(nth(all, 1).id, b)).toBe(nth(all, 1).voice)
    expect(log.guild()).toEqual([])
    expect(
      log
        .voice()
        .map((e) => [e.guildId, e.type, e.userId, e.feedSeq - (before[e.guildId]?.feedSeq ?? 0)]),
    ).toEqual(
      expect.arrayContaining([
        [nth(all, 0).id, 'voice.left', a, 1],
        [nth(all, 3).id, 'voice.joined', c, 1],
      ]),
    )
    expect(log.voice()).toHaveLength(2)
    expect(feed.guilds().map((g) => g.shardId)).toEqual(feed.guilds().map((g) => shardOf(g.id, 2)))
  })

  it('an explicit shard count is used as given, and 4011 under it stops with an operator alert', async () => {
    const emu = await emulator({ guildsPerShard: 3 })
    withGuilds(emu, 4)
    const feed = track(feedFor(emu, { shardCount: 1 }))
    await feed.start()
    await eventually(() => {
      const status = feed.status()
      expect(status.state).toBe('stopped')
      expect(status.alert?.reason).toMatch(/4011/)
    })
    expect(feed.status().reshards).toBe(0)
    expect(emu.control.stats().identifies).toBe(0)
  })
})
