import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VoiceEventSchema } from '@repo/discord-integration/contracts'
import { describe, expect, it } from 'vitest'
import { FileSessionStore } from '../src/session/file-session-store'
import type { PersistedGatewayV1 } from '../src/session/persisted-gateway'
import { PersistedGatewayV2Schema } from '../src/session/persisted-gateway'
import { FeedLog, gapFreePerGuild, humans, nth, withGuilds } from './support/guilds'
import { eventually, feedFor } from './support/harness'
import { useFeedCleanups } from './support/test-cleanups'

const { emulator, track } = useFeedCleanups()

describe('one feed, every guild the bot is in', () => {
  it('tracks each guild with its own gap-free feedSeq, routes channels and members by guild', async () => {
    const emu = await emulator()
    const guilds = withGuilds(emu, 2)
    const [g1, g2, g3] = [nth(guilds, 0), nth(guilds, 1), nth(guilds, 2)]
    const [a, b, c] = humans(emu) as [string, string, string]
    emu.control.setVoice({ userId: a, channelId: g2.voice })
    const feed = track(feedFor(emu))
    const log = new FeedLog(feed)
    await feed.start()
    await feed.ready(5_000)
    expect(feed.guilds()).toEqual(
      guilds
        .map((g) => ({ id: g.id, name: g.name, available: true, shardId: 0 }))
        .sort((x, y) => (x.id < y.id ? -1 : 1)),
    )
    // First sight of each guild: guild.available (joined), before its members.
    expect(log.guild().map((ch) => ch.type)).toEqual([
      'guild.available',
      'guild.available',
      'guild.available',
    ])
    expect(feed.memberChannel(g2.id, a)).toBe(g2.voice)
    expect(feed.memberChannel(g1.id, a)).toBeNull()

    emu.control.setVoice({ userId: b, channelId: g3.voice })
    emu.control.setVoice({ userId: c, channelId: g1.voice })
    emu.control.setVoice({ userId: b, channelId: g3.voice, selfMute: true })
    emu.control.setVoice({ userId: a, channelId: g3.voice }) // leaves g2 first (VSU null there)
    await eventually(() => {
      expect(feed.channelMembers(g3.voice).map((m) => m.userId)).toEqual([a, b].sort())
      expect(feed.channelMembers(g2.voice)).toEqual([])
      expect(feed.channelMembers(g1.voice).map((m) => m.userId)).toEqual([c])
    })
    expect(feed.memberChannel(g3.id, a)).toBe(g3.voice)
    expect(feed.memberChannel(g2.id, a)).toBeNull()
    const events = log.voice()
    for (const event of events) VoiceEventSchema.parse(event)
    expect(gapFreePerGuild(events, {})).toBe(true)
    for (const g of guilds) {
      const own = log.voice(g.id)
      expect(own.map((e) => e.feedSeq)).toEqual(own.map((_, i) => i + 1))
      expect(feed.snapshot(g.id).feedSeq).toBe(own.length)
      for (const e of own) expect(e.channelId === null || e.channelId === g.voice).toBe(true)
    }
    expect(log.voice(g2.id).map((e) => e.type)).toEqual(['voice.joined', 'voice.left'])
    expect(feed.status().shards).toEqual([
      { id: 0, count: 1, state: 'ready', guilds: 3, unavailableGuilds: 0 },
    ])
  })

  it('a guild added live is announced and tracked; an outage keeps its state; a removal ends only that guild', async () => {
    const emu = await emulator()
    const two = withGuilds(emu, 1)
    const [g1, g2] = [nth(two, 0), nth(two, 1)]
    const [a, b, c] = humans(emu) as [string, string, string]
    emu.control.setVoice({ userId: a, channelId: g1.voice })
    emu.control.setVoice({ userId: b, channelId: g2.voice })
    const feed = track(feedFor(emu))
    await feed.start()
    await feed.ready(5_000)
    const log = new FeedLog(feed)

    // The bot is added to a new guild: GUILD_CREATE of an unknown guild.
    const g3 = nth(withGuilds(emu, 1), 2)
    await eventually(() =>
      expect(log.guild()).toEqual([{ type: 'guild.available', guildId: g3.id, name: g3.name }]),
    )
    emu.control.setVoice({ userId: c, channelId: g3.voice })
    await eventually(() => expect(feed.memberChannel(g3.id, c)).toBe(g3.voice))

    // An outage of g2: announced, its voice state kept; changes meanwhile arrive with its GUILD_CREATE.
    emu.control.setGuildAvailable({ guildId: g2.id, available: false })
    await eventually(() =>
      expect(log.guild().at(-1)).toEqual({ type: 'guild.unavailable', guildId: g2.id }),
    )
    expect(feed.guilds().find((g) => g.id === g2.id)?.available).toBe(false)
    expect(feed.memberChannel(g2.id, b)).toBe(g2.voice)
    const g2Before = feed.snapshot(g2.id).feedSeq
    emu.control.setVoice({ userId: b, channelId: g2.voice, selfDeaf: true })
    emu.control.setGuildAvailable({ guildId: g2.id, available: true })
    await eventually(() =>
      expect(feed.channelMembers(g2.voice)[0]).toMatchObject({ userId: b, selfDeaf: true }),
    )
    expect(log.guild().at(-1)).toMatchObject({ type: 'guild.available', guildId: g2.id })
    expect(feed.snapshot(g2.id).feedSeq).toBe(g2Before + 1) // one voice.updated, no rejoin

    // The bot removed from g1: its members leave (guild_removed), then guild.removed; others untouched.
    const others = [g2, g3].map((g) => feed.snapshot(g.id))
    const count = log.entries.length
    emu.control.setBotMembership({ guildId: g1.id, member: false })
    await eventually(() =>
      expect(log.guild().at(-1)).toEqual({ type: 'guild.removed', guildId: g1.id }),
    )
    const tail = log.entries.slice(count)
    expect(tail).toEqual([
      {
        kind: 'voice',
        event: expect.objectContaining({
          type: 'voice.left',
          guildId: g1.id,
          userId: a,
          reason: 'guild_removed',
        }),
      },
      { kind: 'guild', change: { type: 'guild.removed', guildId: g1.id } },
    ])
    expect(feed.guilds().map((g) => g.id)).not.toContain(g1.id)
    expect(feed.memberChannel(g1.id, a)).toBeNull()
    expect(feed.channelMembers(g1.voice)).toEqual([])
    expect([g2, g3].map((g) => feed.snapshot(g.id))).toEqual(others)
    expect(gapFreePerGuild(log.voice())).toBe(true)
  })

  it('a restart resumes and keeps every guild; a one-guild (version 1) session file still resumes', async () => {
    const emu = await emulator()
    const two = withGuilds(emu, 1)
    const [g1, g2] = [nth(two, 0), nth(two, 1)]
    const [a, b] = humans(emu) as [string, string]
    const dir = await mkdtemp(join(tmpdir(), 'gw-guilds-'))
    const path = join(dir, 'session.json')
    emu.control.setVoice({ userId: a, channelId: g1.voice })
    emu.control.setVoice({ userId: b, channelId: g2.voice })
    const first = track(feedFor(emu, { sessionStore: new FileSessionStore(path) }))
    await first.start()
    await first.ready(5_000)
    const seqs = { [g1.id]: first.snapshot(g1.id).feedSeq, [g2.id]: first.snapshot(g2.id).feedSeq }
    await first.stop()
    const saved = PersistedGatewayV2Schema.parse(JSON.parse(await readFile(path, 'utf8')))
    expect(saved.guilds.map((g) => g.id).sort()).toEqual([g1.id, g2.id].sort())
    expect(saved.shards).toMatchObject([{ id: 0, count: 1, settled: true }])

    emu.control.setVoice({ userId: b, channelId: null })
    const second = track(feedFor(emu, { sessionStore: new FileSessionStore(path) }))
    const log = new FeedLog(second)
    await second.start()
    expect(second.memberChannel(g2.id, b)).toBe(g2.voice) // restored before connecting
    await second.ready(1_000)
    await eventually(() => expect(second.memberChannel(g2.id, b)).toBeNull())
    expect(emu.control.stats()).toMatchObject({ identifies: 1, resumes: 1 })
    expect(log.voice().map((e) => [e.guildId, e.type, e.feedSeq])).toEqual([
      [g2.id, 'voice.left', (seqs[g2.id] as number) + 1],
    ])
    expect(log.guild()).toEqual([]) // nothing joined or came back
    await second.stop()

    // A version 1 file (one guild, as written before several guilds) resumes the same session.
    const now = PersistedGatewayV2Schema.parse(JSON.parse(await readFile(path, 'utf8')))
    const shard = now.shards[0]
    const guild = now.guilds.find((g) => g.id === g1.id)
    if (!shard?.session || !guild) throw new Error('expected a resumable shard and guild 1')
    const v1: PersistedGatewayV1 = {
      v: 1,
      guildId: g1.id,
      savedAt: now.savedAt,
      session: shard.session,
      voice: { ...guild.voice, sessionId: shard.sessionId, seq: shard.seq },
    }
    await writeFile(path, JSON.stringify(v1))
    emu.control.setVoice({ userId: a, channelId: null })
    const third = track(feedFor(emu, { sessionStore: new FileSessionStore(path) }))
    const log3 = new FeedLog(third)
    await third.start()
    expect(third.memberChannel(g1.id, a)).toBe(g1.voice)
    await third.ready(1_000)
    await eventually(() => expect(third.memberChannel(g1.id, a)).toBeNull())
    expect(emu.control.stats()).toMatchObject({ identifies: 1, resumes: 2 })
    expect(log3.voice(g1.id).map((e) => [e.type, e.feedSeq])).toEqual([
      ['voice.left', guild.voice.feedSeq + 1],
    ])
  })

  it('a guild the bot was removed from while no process ran is removed at the next READY', async () => {
    const emu = await emulator()
    const two = withGuilds(emu, 1)
    const [g1, g2] = [nth(two, 0), nth(two, 1)]
    const [a, b] = humans(emu) as [string, string]
    emu.control.setVoice({ userId: a, channelId: g1.voice })
    emu.control.setVoice({ userId: b, channelId: g2.voice })
    const path = join(await mkdtemp(join(tmpdir(), 'gw-removed-')), 'session.json')
    const first = track(feedFor(emu, { sessionStore: new FileSessionStore(path) }))
    await first.start()
    await first.ready(5_000)
    const g2FeedSeq = first.snapshot(g2.id).feedSeq
    await first.stop()
    emu.control.restart() // sessions forgotten: the next process identifies
    emu.control.setBotMembership({ guildId: g2.id, member: false })
    const second = track(feedFor(emu, { sessionStore: new FileSessionStore(path) }))
    const log = new FeedLog(second)
    await second.start()
    expect(second.memberChannel(g2.id, b)).toBe(g2.voice) // restored
    await second.ready(5_000)
    await eventually(() => expect(log.guild()).toEqual([{ type: 'guild.removed', guildId: g2.id }]))
    expect(log.voice(g2.id)).toEqual([
      expect.objectContaining({
        type: 'voice.left',
        userId: b,
        reason: 'guild_removed',
        feedSeq: g2FeedSeq + 1,
      }),
    ])
    expect(second.guilds().map((g) => g.id)).toEqual([g1.id])
    expect(second.memberChannel(g1.id, a)).toBe(g1.voice)
    expect(log.voice(g1.id)).toEqual([]) // reconciled, nothing changed
  })
})
