import { GatewayDispatchEvents as E } from 'discord-api-types/v10'
import { describe, expect, it } from 'vitest'
import { DEFAULT_WORLD, type WorldSeed, WorldSeedSchema } from '../src/index.ts'
import { createGuild } from '../src/world/guild-ops.ts'
import {
  guildsOnShard,
  identifyBucket,
  isValidShard,
  recommendedShards,
  shardOf,
} from '../src/world/sharding.ts'
import { makeSnowflake } from '../src/world/snowflake.ts'
import type { WorldDispatch } from '../src/world/types.ts'
import { World } from '../src/world/world.ts'
import { W } from './support/helpers.ts'

const LIMITS = { channelsPerGuild: 500, channelsPerCategory: 50 }
/** A guild id whose timestamp is `ms` after 2024-01-01 (so `id >> 22` is known). */
const T = Date.UTC(2024, 0, 1)
const guildAt = (ms: number) => makeSnowflake(T + ms, 1, 0)
const epochMs = (id: string) => Number(BigInt(id) >> 22n)

describe('Discord’s shard formulas', () => {
  it('routes a guild by (guild_id >> 22) % num_shards', () => {
    const id = guildAt(7)
    for (const n of [1, 2, 3, 5]) expect(shardOf(id, n)).toBe(epochMs(id) % n)
    // The docs' example: 3 shards are [0, 3], [1, 3], [2, 3].
    const ids = [0, 1, 2, 3, 4, 5].map(guildAt)
    expect(new Set(ids.map((g) => shardOf(g, 3))).size).toBe(3)
    expect(
      guildsOnShard(ids, [0, 3]) + guildsOnShard(ids, [1, 3]) + guildsOnShard(ids, [2, 3]),
    ).toBe(6)
  })

  it('buckets identifies by shard_id % max_concurrency', () => {
    expect([0, 1, 15, 16, 17, 31].map((s) => identifyBucket(s, 16))).toEqual([0, 1, 15, 0, 1, 15])
    expect([0, 1, 2].map((s) => identifyBucket(s, 1))).toEqual([0, 0, 0])
  })

  it('accepts only 0 <= shard_id < num_shards', () => {
    expect(isValidShard([0, 1])).toBe(true)
    expect(isValidShard([2, 3])).toBe(true)
    expect(isValidShard([1, 1])).toBe(false)
    expect(isValidShard([-1, 2])).toBe(false)
    expect(isValidShard([0, 0])).toBe(false)
  })

  it('recommends ceil(guilds / guildsPerShard) shards, more only when the ids crowd one shard', () => {
    const spread = [0, 1, 2, 3, 4].map(guildAt)
    expect(recommendedShards([], 2500)).toBe(1)
    expect(recommendedShards(spread, 2500)).toBe(1)
    expect(recommendedShards(spread, 3)).toBe(2)
    expect(recommendedShards(spread, 1)).toBe(5)
    // Four guilds whose timestamps are all even: with 2 shards they would all be on shard 0.
    const even = [0, 2, 4, 6].map(guildAt)
    const n = recommendedShards(even, 2)
    expect(n).toBeGreaterThan(2)
    for (let s = 0; s < n; s++) expect(guildsOnShard(even, [s, n])).toBeLessThanOrEqual(2)
  })
})

describe('a world with several guilds', () => {
  const other = (over: Partial<NonNullable<WorldSeed['guilds']>[number]> = {}) => ({
    id: guildAt(1),
    name: 'Second Table',
    ownerId: W.memberA,
    members: [{ userId: W.memberB }],
    channels: [
      { id: makeSnowflake(T + 10, 2, 1), name: 'Rooms', type: 4 as const },
      {
        id: makeSnowflake(T + 10, 2, 2),
        name: 'Voice',
        type: 2 as const,
        parentId: makeSnowflake(T + 10, 2, 1),
      },
    ],
    ...over,
  })
  const build = (guilds: NonNullable<WorldSeed['guilds']>, extra: Partial<WorldSeed> = {}) => {
    const world = new World(WorldSeedSchema.parse({ ...DEFAULT_WORLD, guilds, ...extra }), LIMITS)
    const events: WorldDispatch[] = []
    world.onDispatch = (e) => events.push(e)
    return { world, events }
  }

  it('keeps the default guild as it was and adds the others, owner as a member, @everyone added', () => {
    const { world } = build([other()])
    expect(world.defaultGuild.id).toBe(W.guild)
    expect([...world.guilds.keys()]).toEqual([W.guild, guildAt(1)])
    const g = world.guild(guildAt(1))!
    expect([...g.members.keys()].sort()).toEqual([W.bot, W.memberA, W.memberB].sort())
    expect(g.roles.get(g.id)?.name).toBe('@everyone')
    expect(g.botInGuild).toBe(true)
    expect(world.channelGuild(makeSnowflake(T + 10, 2, 2))).toBe(g)
    expect(world.userGuilds(W.memberB).map((x) => x.id)).toEqual([W.guild, guildAt(1)])
    expect(world.userGuilds(W.nonMember)).toEqual([])
  })

  it('rejects a guild with an unknown owner, a duplicated id, or a person in voice twice', () => {
    expect(() => build([other({ ownerId: '123456789012345678' })])).toThrow(/owner/)
    expect(() => build([other({ id: W.guild })])).toThrow(/duplicate/)
    const channels = [{ id: W.lobby, name: 'Clash', type: 2 as const }]
    expect(() => build([other({ channels })])).toThrow(/used elsewhere/)
    const voice = { voiceStates: [{ userId: W.memberB, channelId: W.lobby }] }
    const twice = other({
      voiceStates: [{ userId: W.memberB, channelId: makeSnowflake(T + 10, 2, 2) }],
    })
    expect(() => build([twice], voice)).toThrow(/one voice channel/)
  })

  it('tags every dispatch with its guild; a person joining another guild’s voice leaves the first', () => {
    const { world, events } = build([other()])
    const second = world.guild(guildAt(1))!
    world.defaultGuild.setVoice(W.memberB, W.lobby)
    second.setVoice(W.memberB, makeSnowflake(T + 10, 2, 2))
    expect(
      events.map((e) => [e.t, e.guildId, (e.d as { channel_id: string | null }).channel_id]),
    ).toEqual([
      [E.VoiceStateUpdate, W.guild, W.lobby],
      [E.VoiceStateUpdate, W.guild, null],
      [E.VoiceStateUpdate, second.id, makeSnowflake(T + 10, 2, 2)],
    ])
    expect(world.defaultGuild.voice.has(W.memberB)).toBe(false)
  })

  it('a bot keeps one voice connection per guild', () => {
    const { world } = build([other()])
    world.defaultGuild.setVoice(W.bot, W.lobby)
    world.guild(guildAt(1))!.setVoice(W.bot, makeSnowflake(T + 10, 2, 2))
    expect(world.defaultGuild.voice.has(W.bot)).toBe(true)
  })

  it('mints guild ids at least 1 ms apart, so a burst of new guilds spreads over the shards', () => {
    const { world } = build([])
    const ids = Array.from(
      { length: 6 },
      (_, i) =>
        createGuild(world, {
          name: `G${i}`,
          ownerId: W.owner,
          bot: true,
          roles: [],
          channels: [],
          members: [],
        }).id,
    )
    expect(new Set(ids.map((id) => shardOf(id, 3)))).toEqual(new Set([0, 1, 2]))
    for (let i = 1; i < ids.length; i++)
      expect(epochMs(ids[i]!)).toBeGreaterThan(epochMs(ids[i - 1]!))
  })

  it('a guild created with the bot gets its managed role on top and one GUILD_CREATE', () => {
    const { world, events } = build([])
    const g = createGuild(world, {
      name: 'Community',
      ownerId: W.owner,
      bot: true,
      botPermissions: '16',
      roles: [{ name: 'Mods', permissions: '32' }],
      channels: [
        { name: 'Rooms', type: 4 },
        { name: 'Chat', type: 2, parent: 'Rooms', userLimit: 4 },
      ],
      members: [{ userId: W.memberA, roles: ['Mods'] }],
    })
    expect(events.map((e) => [e.t, e.guildId])).toEqual([[E.GuildCreate, g.id]])
    const botRole = g.members.get(W.bot)!.roles.map((id) => g.roles.get(id)!)
    expect(botRole).toEqual([
      expect.objectContaining({ managed: true, permissions: 16n, position: 2 }),
    ])
    const chat = [...g.channels.values()].find((c) => c.name === 'Chat')!
    expect(g.channels.get(chat.parentId!)?.name).toBe('Rooms')
    expect(g.basePermissions(W.memberA) & 32n).toBe(32n)
    expect(() =>
      createGuild(world, {
        name: 'Bad',
        ownerId: W.owner,
        bot: false,
        roles: [],
        channels: [{ name: 'x', type: 2, parent: 'nope' }],
        members: [],
      }),
    ).toThrow(/category/)
  })
})
