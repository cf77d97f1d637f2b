import {
  type APIGuildCategoryChannel,
  GatewayDispatchEvents as E,
  type GatewayReceivePayload,
  GatewayOpcodes as Op,
} from 'discord-api-types/v10'
import { afterEach, describe, expect, it } from 'vitest'
import type { Emulator, EmulatorOptions } from '../src/index.ts'
import { shardOf } from '../src/world/sharding.ts'
import { api, startTestEmulator, W, waitFor } from './support/helpers.ts'
import { gatewayUrl, RawGateway } from './support/raw-gateway.ts'

/*
 * Discord's sharding rules over a raw socket (docs events/gateway "Sharding", "Max Concurrency";
 * topics/opcodes-and-status-codes 4010, 4011): five guilds, three guilds per shard, two shards.
 */

describe('gateway sharding (raw socket)', () => {
  let emu: Emulator
  const sockets: RawGateway[] = []
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close()
    await emu.close()
  })

  /** The default guild plus four created ones (owner Morgan, a voice channel each). */
  async function fiveGuilds(options: EmulatorOptions = {}) {
    emu = await startTestEmulator({ identifyIntervalMs: 0, guildsPerShard: 3, ...options })
    for (const name of ['Two', 'Three', 'Four', 'Five']) {
      emu.control.createGuild({
        name: `Table ${name}`,
        ownerId: W.owner,
        members: [W.memberA],
        channels: [{ name: 'Voice', type: 2 }],
      })
    }
    const guilds = emu.control.state().guilds
    const voiceOf = (guildId: string) =>
      guilds.find((g) => g.id === guildId)!.channels.find((c) => c.type === 2)!.id
    return { guilds, voiceOf }
  }

  const identify = async (shard: [number, number] | null, intents = 131) => {
    const g = await RawGateway.open(gatewayUrl(emu.webUrl))
    sockets.push(g)
    g.identify(emu.botToken, intents, shard ? { shard } : {})
    return g
  }
  const ready = async (shard: [number, number]) => {
    const g = await identify(shard)
    const r = await g.next((f) => f.op === 0 && f.t === E.Ready)
    return { g, ready: r.d as { guilds: { id: string; unavailable: boolean }[]; shard: number[] } }
  }
  const guildCreates = (g: RawGateway) =>
    g.dispatches(E.GuildCreate).map((f) => (f.d as { id: string }).id)
  const isVsu = (f: GatewayReceivePayload) => f.op === 0 && f.t === E.VoiceStateUpdate

  it('GET /gateway/bot recommends ceil(guilds / guildsPerShard) shards and reports max_concurrency', async () => {
    await fiveGuilds({ maxConcurrency: 4 })
    const { body } = await api(emu, 'GET', '/gateway/bot')
    expect(body.shards).toBe(2)
    expect(body.session_start_limit).toMatchObject({ max_concurrency: 4, total: 1000 })
    const sharding = emu.control.setSharding({ guildsPerShard: 1, maxConcurrency: 2 })
    expect(sharding).toMatchObject({ guildsPerShard: 1, maxConcurrency: 2 })
    // One guild per shard: at least five shards, and enough that no two guilds share one.
    const n = sharding.recommendedShards
    expect(n).toBeGreaterThanOrEqual(5)
    const guilds = emu.control.state().guilds
    expect(new Set(guilds.map((g) => shardOf(g.id, n))).size).toBe(5)
    const after = await api(emu, 'GET', '/gateway/bot')
    expect(after.body.shards).toBe(n)
    expect(after.body.session_start_limit.max_concurrency).toBe(2)
    expect(emu.control.state().sharding).toEqual(sharding)
  })

  it('READY lists only the shard’s guilds and carries `shard`; one GUILD_CREATE per guild, on its shard only', async () => {
    const { guilds } = await fiveGuilds()
    const s0 = await ready([0, 2])
    const s1 = await ready([1, 2])
    const expected = (id: number) => guilds.filter((g) => shardOf(g.id, 2) === id).map((g) => g.id)
    for (const [i, s] of [s0, s1].entries()) {
      expect(s.ready.shard).toEqual([i, 2])
      expect(s.ready.guilds).toEqual(expected(i).map((id) => ({ id, unavailable: true })))
      await waitFor(() => guildCreates(s.g).length === expected(i).length)
      expect(guildCreates(s.g).sort()).toEqual(expected(i).sort())
    }
    expect(expected(0).length + expected(1).length).toBe(5)
    expect(guilds.map((g) => g.shard)).toEqual(guilds.map((g) => [shardOf(g.id, 2), 2]))
  })

  it('closes 4010 for an invalid [shard_id, num_shards] and 4011 when a shard would hold too many guilds', async () => {
    await fiveGuilds()
    for (const shard of [
      [1, 1],
      [2, 2],
      [-1, 2],
      [0, 0],
    ] as [number, number][]) {
      const g = await identify(shard)
      expect((await g.closed).code).toBe(4010)
    }
    const unsharded = await identify(null)
    expect((await unsharded.closed).code).toBe(4011)
    const one = await identify([0, 1])
    expect((await one.closed).code).toBe(4011)
    expect(emu.control.stats().identifies).toBe(0)
    // Discord allows any count that fits, e.g. three shards for five guilds.
    await ready([2, 3])
    expect(emu.control.stats().identifies).toBe(1)
    // READY carries `shard` only when IDENTIFY sent one (docs events/gateway-events "Ready").
    emu.control.setSharding({ guildsPerShard: 5 })
    const plain = await identify(null)
    const r = await plain.next((f) => f.op === 0 && f.t === E.Ready)
    expect(r.d).not.toHaveProperty('shard')
  })

  it('sends a guild’s events only to the shard that owns it', async () => {
    const { guilds, voiceOf } = await fiveGuilds()
    const shards = [await ready([0, 2]), await ready([1, 2])]
    for (const g of guilds) {
      const owner = shards[shardOf(g.id, 2)]!.g
      const other = shards[1 - shardOf(g.id, 2)]!.g
      await waitFor(() => guildCreates(owner).includes(g.id))
      emu.control.setVoice({ userId: W.memberA, channelId: voiceOf(g.id) })
      const vsu = await owner.next(
        (f) => isVsu(f) && (f.d as { guild_id: string }).guild_id === g.id,
      )
      expect((vsu.d as { channel_id: string }).channel_id).toBe(voiceOf(g.id))
      expect(
        other.frames.some((f) => isVsu(f) && (f.d as { guild_id: string }).guild_id === g.id),
      ).toBe(false)
    }
    // A REST change in one guild (CHANNEL_CREATE) reaches only its shard too.
    const target = guilds[guilds.length - 1]!
    const created = await api(emu, 'POST', `/guilds/${target.id}/channels`, {
      body: { name: 'room', type: 2 },
    })
    expect(created.status).toBe(201)
    const owner = shards[shardOf(target.id, 2)]!.g
    await owner.next((f) => f.op === 0 && f.t === E.ChannelCreate)
    expect(shards[1 - shardOf(target.id, 2)]!.g.dispatches(E.ChannelCreate)).toEqual([])
    expect(emu.control.stats().shards).toEqual([
      expect.objectContaining({ shard: [0, 2], sessions: 1, activeSessions: 1 }),
      expect.objectContaining({ shard: [1, 2], sessions: 1, activeSessions: 1 }),
    ])
  })

  it('allows one IDENTIFY per 5 s per bucket shard_id % max_concurrency, else op 9', async () => {
    await fiveGuilds({ identifyIntervalMs: 5000, maxConcurrency: 2 })
    // Buckets 0 and 1 start at once.
    await ready([0, 3])
    await ready([1, 3])
    // Shard 2 is in bucket 0 again: too soon.
    const early = await identify([2, 3])
    expect((await early.next((f) => f.op === Op.InvalidSession)).d).toBe(false)
    expect(emu.control.stats().identifies).toBe(2)
  })

  it('with max_concurrency 1 the second shard waits for the window', async () => {
    await fiveGuilds({ identifyIntervalMs: 400 })
    await ready([0, 2])
    const early = await identify([1, 2])
    expect((await early.next((f) => f.op === Op.InvalidSession)).d).toBe(false)
    await new Promise((r) => setTimeout(r, 450))
    await ready([1, 2])
    expect(emu.control.stats().identifies).toBe(2)
  })

  it('the bot added to and removed from a guild: GUILD_CREATE and GUILD_DELETE (no `unavailable`) on its shard', async () => {
    await fiveGuilds()
    const shards = [await ready([0, 2]), await ready([1, 2])]
    const state = emu.control.createGuild({ name: 'Late Table', ownerId: W.owner, bot: false })
    expect(state.botInGuild).toBe(false)
    emu.control.setBotMembership({ guildId: state.id, member: true })
    const owner = shards[shardOf(state.id, 2)]!.g
    const other = shards[1 - shardOf(state.id, 2)]!.g
    await waitFor(() => guildCreates(owner).includes(state.id))
    expect(guildCreates(other)).not.toContain(state.id)
    emu.control.setBotMembership({ guildId: state.id, member: false })
    const deleted = await owner.next((f) => f.op === 0 && f.t === E.GuildDelete)
    expect(deleted.d).toEqual({ id: state.id })
    expect(other.dispatches(E.GuildDelete)).toEqual([])
  })

  it('an outage: GUILD_DELETE unavailable, nothing of that guild, then GUILD_CREATE with the voice states of now', async () => {
    const { guilds, voiceOf } = await fiveGuilds()
    const target = guilds[2]!
    const shards = [await ready([0, 2]), await ready([1, 2])]
    const owner = shards[shardOf(target.id, 2)]!.g
    await waitFor(() => guildCreates(owner).includes(target.id))
    emu.control.setGuildAvailable({ guildId: target.id, available: false })
    const gone = await owner.next((f) => f.op === 0 && f.t === E.GuildDelete)
    expect(gone.d).toEqual({ id: target.id, unavailable: true })
    expect(emu.control.state().guilds[2]!.available).toBe(false)
    emu.control.setVoice({ userId: W.memberA, channelId: voiceOf(target.id) })
    // A shard identifying during the outage hears about it the same way.
    const late = await ready([shardOf(target.id, 2), 2])
    expect(late.ready.guilds).toContainEqual({ id: target.id, unavailable: true })
    await late.g.next(
      (f) => f.op === 0 && f.t === E.GuildDelete && (f.d as { id: string }).id === target.id,
    )
    emu.control.setGuildAvailable({ guildId: target.id, available: true })
    const back = await owner.next(
      (f) =>
        f.op === 0 &&
        f.t === E.GuildCreate &&
        (f.d as { id: string }).id === target.id &&
        f.s! > gone.s!,
    )
    expect((back.d as { voice_states: { user_id: string }[] }).voice_states).toEqual([
      expect.objectContaining({ user_id: W.memberA, channel_id: voiceOf(target.id) }),
    ])
    expect(owner.frames.some(isVsu)).toBe(false)
  })

  it('op 8 and op 43 for a guild of another shard get no answer', async () => {
    const { guilds } = await fiveGuilds()
    const mine = guilds.find((g) => shardOf(g.id, 2) === 0)!
    const theirs = guilds.find((g) => shardOf(g.id, 2) === 1)!
    const { g } = await ready([0, 2])
    g.send({ op: 8, d: { guild_id: theirs.id, user_ids: [W.owner], nonce: 'theirs' } })
    g.send({ op: 43, d: { guild_id: theirs.id, fields: ['voice_start_time'] } })
    g.send({ op: 8, d: { guild_id: mine.id, user_ids: [W.owner], nonce: 'mine' } })
    const chunk = await g.next((f) => f.op === 0 && f.t === E.GuildMembersChunk)
    expect(chunk.d).toMatchObject({ guild_id: mine.id, nonce: 'mine' })
    expect(g.dispatches(E.GuildMembersChunk)).toHaveLength(1)
    expect(g.dispatches(E.ChannelInfo)).toEqual([])
  })

  it('a category made through REST in a second guild lands in that guild', async () => {
    const { guilds } = await fiveGuilds()
    const second = guilds[1]!
    const res = await api(emu, 'POST', `/guilds/${second.id}/channels`, {
      body: { name: 'Rooms', type: 4 },
    })
    expect((res.body as APIGuildCategoryChannel).guild_id).toBe(second.id)
    const list = await api(emu, 'GET', `/guilds/${second.id}/channels`)
    expect(list.body.map((c: { name: string }) => c.name).sort()).toEqual(['Rooms', 'Voice'])
    expect((await api(emu, 'GET', '/guilds/123456789012345678')).body.code).toBe(10004)
  })
})
