import { REST } from '@discordjs/rest'
import { WebSocketManager, WebSocketShardEvents } from '@discordjs/ws'
import { GatewayDispatchEvents as E, type GatewayDispatchPayload } from 'discord-api-types/v10'
import { afterEach, describe, expect, it } from 'vitest'
import type { Emulator, EmulatorOptions } from '../src/index.ts'
import { shardOf } from '../src/world/sharding.ts'
import { startTestEmulator, W, waitFor } from './support/helpers.ts'

/*
 * The discord.js family's own sharded client, unmodified: @discordjs/ws WebSocketManager with
 * several shards against five guilds and three guilds per shard.
 */

describe('@discordjs/ws WebSocketManager with several shards', () => {
  let emu: Emulator
  let manager: WebSocketManager | null = null
  afterEach(async () => {
    await manager?.destroy()
    manager = null
    await emu.close()
  })

  async function fiveGuilds(options: EmulatorOptions = {}) {
    emu = await startTestEmulator({ guildsPerShard: 3, maxConcurrency: 2, ...options })
    for (const name of ['Two', 'Three', 'Four', 'Five']) {
      emu.control.createGuild({
        name: `Table ${name}`,
        ownerId: W.owner,
        members: [W.memberA],
        channels: [{ name: 'Voice', type: 2 }],
      })
    }
    return emu.control.state().guilds
  }

  /** GUILDS | GUILD_MEMBERS | GUILD_VOICE_STATES. */
  const intents: number = 131

  function sharded(shardCount: number | null) {
    const rest = new REST({ api: emu.restBase }).setToken(emu.botToken)
    const m = new WebSocketManager({ token: emu.botToken, intents, rest, shardCount })
    manager = m
    const seen: { t: GatewayDispatchPayload['t']; d: unknown; shardId: number; at: number }[] = []
    const readyAt = new Map<number, number>()
    const errors: { message: string; shardId: number }[] = []
    const closes: { code: number; shardId: number }[] = []
    m.on(WebSocketShardEvents.Dispatch, (payload, shardId) => {
      seen.push({ t: payload.t, d: payload.d, shardId, at: Date.now() })
    })
    m.on(WebSocketShardEvents.Ready, (_data, shardId) => {
      readyAt.set(shardId, Date.now())
    })
    m.on(WebSocketShardEvents.Error, (err, shardId) => {
      errors.push({ message: err.message, shardId })
    })
    m.on(WebSocketShardEvents.Closed, (code, shardId) => {
      closes.push({ code, shardId })
    })
    const guildCreates = () =>
      seen.filter((e) => e.t === E.GuildCreate).map((e) => [(e.d as { id: string }).id, e.shardId])
    return { m, seen, readyAt, errors, closes, guildCreates }
  }

  it('takes the shard count from GET /gateway/bot and gets each guild’s GUILD_CREATE on its shard', async () => {
    const guilds = await fiveGuilds()
    const rec = sharded(null)
    await rec.m.connect()
    expect(await rec.m.getShardCount()).toBe(2)
    await waitFor(() => rec.guildCreates().length === 5, 10_000, 'five GUILD_CREATEs')
    expect(rec.guildCreates().sort()).toEqual(guilds.map((g) => [g.id, shardOf(g.id, 2)]).sort())
    expect(emu.control.stats().shards.map((s) => s.shard)).toEqual([
      [0, 2],
      [1, 2],
    ])
    // A voice change in a guild reaches the shard that owns it, and no other.
    for (const g of guilds.slice(1)) {
      const channelId = g.channels.find((c) => c.type === 2)!.id
      emu.control.setVoice({ userId: W.memberA, channelId })
      const vsu = await waitFor(() =>
        rec.seen.find(
          (e) =>
            e.t === E.VoiceStateUpdate && (e.d as { channel_id: string }).channel_id === channelId,
        ),
      )
      expect(vsu.shardId).toBe(shardOf(g.id, 2))
    }
    const vsus = rec.seen.filter((e) => e.t === E.VoiceStateUpdate)
    for (const e of vsus) expect(e.shardId).toBe(shardOf((e.d as { guild_id: string }).guild_id, 2))
    expect(emu.control.stats().identifies).toBe(2)
  })

  it('honours an explicit shard count', async () => {
    // Guilds minted in the same millisecond share a shard, so an explicit count may overfill one
    // shard at three per shard; five per shard keeps this test about the count alone.
    const guilds = await fiveGuilds({ maxConcurrency: 3, guildsPerShard: 5 })
    const rec = sharded(3)
    await rec.m.connect()
    await waitFor(() => rec.guildCreates().length === 5, 10_000, 'five GUILD_CREATEs')
    expect(rec.guildCreates().sort()).toEqual(guilds.map((g) => [g.id, shardOf(g.id, 3)]).sort())
    const ready = rec.seen.filter((e) => e.t === E.Ready)
    expect(ready.map((e) => (e.d as { shard: number[] }).shard).sort()).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
    ])
  })

  it('stops with 4011 "Sharding is required" when a shard would hold too many guilds', async () => {
    await fiveGuilds()
    const rec = sharded(1)
    await rec.m.connect().catch(() => {})
    await waitFor(() => rec.closes.some((c) => c.code === 4011), 5000, 'close 4011')
    expect(rec.errors).toContainEqual({ message: 'Sharding is required', shardId: 0 })
    expect(emu.control.stats().identifies).toBe(0)
    // A fatal close: the library does not retry.
    await new Promise((r) => setTimeout(r, 800))
    expect(rec.closes.filter((c) => c.code === 4011)).toHaveLength(1)
  })

  it('spaces identifies 5 s apart within a bucket (max_concurrency 1), and none is refused', async () => {
    // Five per shard: the explicit count of two never closes 4011, whatever the guilds' ids.
    await fiveGuilds({ maxConcurrency: 1, identifyIntervalMs: 5000, guildsPerShard: 5 })
    const rec = sharded(2)
    await rec.m.connect()
    await waitFor(() => rec.readyAt.size === 2, 15_000, 'both shards ready')
    const gap = Math.abs(rec.readyAt.get(1)! - rec.readyAt.get(0)!)
    expect(gap).toBeGreaterThanOrEqual(4900)
    // Every IDENTIFY was accepted: the library's buckets are the emulator's.
    expect(emu.control.stats().identifies).toBe(2)
  }, 20_000)

  it('starts shards of different buckets together (max_concurrency 2)', async () => {
    await fiveGuilds({ maxConcurrency: 2, identifyIntervalMs: 5000, guildsPerShard: 5 })
    const rec = sharded(2)
    await rec.m.connect()
    await waitFor(() => rec.readyAt.size === 2, 5000, 'both shards ready')
    expect(Math.abs(rec.readyAt.get(1)! - rec.readyAt.get(0)!)).toBeLessThan(4900)
    expect(emu.control.stats().identifies).toBe(2)
  })
})
