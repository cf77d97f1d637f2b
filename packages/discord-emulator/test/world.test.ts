import { GatewayDispatchEvents as E } from 'discord-api-types/v10'
import { describe, expect, it } from 'vitest'
import { DEFAULT_WORLD, WorldSeedSchema } from '../src/index.ts'
import { deleteChannel } from '../src/world/channel-ops.ts'
import {
  isSnowflake,
  makeSnowflake,
  SnowflakeGenerator,
  snowflakeTimestamp,
} from '../src/world/snowflake.ts'
import type { WorldDispatch } from '../src/world/types.ts'
import { defaultBotToken, World } from '../src/world/world.ts'
import { W } from './support/helpers.ts'

const newWorld = () => {
  const world = new World(WorldSeedSchema.parse(DEFAULT_WORLD), {
    channelsPerGuild: 500,
    channelsPerCategory: 50,
  })
  const events: WorldDispatch[] = []
  world.onDispatch = (e) => events.push(e)
  return { world: world.defaultGuild, events }
}

describe('snowflakes', () => {
  it('are realistic 17-20 digit ids that encode their timestamp', () => {
    const id = makeSnowflake(Date.UTC(2024, 0, 1), 1, 5)
    expect(isSnowflake(id)).toBe(true)
    expect(snowflakeTimestamp(id)).toBe(Date.UTC(2024, 0, 1))
    for (const u of DEFAULT_WORLD.users) expect(isSnowflake(u.id)).toBe(true)
  })
  it('the generator never repeats, even with a frozen clock', () => {
    const gen = new SnowflakeGenerator(() => 1_700_000_000_000)
    const ids = new Set(Array.from({ length: 5000 }, () => gen.next()))
    expect(ids.size).toBe(5000)
  })
  it('the default bot token has Discord’s shape and is deterministic', () => {
    const token = defaultBotToken(W.bot)
    expect(token).toBe(defaultBotToken(W.bot))
    const [id, ts, hmac] = token.split('.')
    expect(Buffer.from(id!, 'base64url').toString()).toBe(W.bot)
    expect(ts).toHaveLength(6)
    expect(hmac!.length).toBeGreaterThanOrEqual(27)
  })
})

describe('world mutations emit Discord’s dispatches', () => {
  it('join, move and leave emit VSUs gated by GUILD_VOICE_STATES', () => {
    const { world, events } = newWorld()
    world.setVoice(W.memberA, W.lobby, { selfMute: true })
    world.setVoice(W.memberA, W.table2)
    world.setVoice(W.memberA, null)
    expect(
      events.map((e) => [e.t, e.intent, (e.d as { channel_id: string | null }).channel_id]),
    ).toEqual([
      [E.VoiceStateUpdate, 128, W.lobby],
      [E.VoiceStateUpdate, 128, W.table2],
      [E.VoiceStateUpdate, 128, null],
    ])
    // Flags persist across a move.
    expect((events[1]!.d as { self_mute: boolean }).self_mute).toBe(true)
  })

  it('removing a member in voice ends the voice state first', () => {
    const { world, events } = newWorld()
    world.setVoice(W.memberA, W.lobby)
    world.removeMember(W.memberA)
    expect(events.slice(1).map((e) => e.t)).toEqual([E.VoiceStateUpdate, E.GuildMemberRemove])
    expect(world.voice.has(W.memberA)).toBe(false)
  })

  it('deleting a category orphans its children (CHANNEL_UPDATE each)', () => {
    const { world, events } = newWorld()
    deleteChannel(world, W.category)
    expect(events.map((e) => e.t)).toEqual([E.ChannelDelete, E.ChannelUpdate, E.ChannelUpdate])
    expect(world.channels.get(W.lobby)?.parentId).toBeNull()
  })

  it('GUILD_CREATE holds the bot and voice members, and voice states without guild_id', () => {
    const { world } = newWorld()
    world.setVoice(W.memberB, W.lobby)
    const g = world.guildCreate()
    expect(g.members.map((m) => m.user.id).sort()).toEqual([W.bot, W.memberB].sort())
    expect(g.voice_states).toEqual([expect.not.objectContaining({ guild_id: expect.anything() })])
    expect(g.member_count).toBe(5)
  })

  it('rejects a seed without @everyone and bad seeded voice states', () => {
    const seed = WorldSeedSchema.parse(DEFAULT_WORLD)
    const limits = { channelsPerGuild: 500, channelsPerCategory: 50 }
    expect(() => new World({ ...seed, roles: seed.roles.slice(1) }, limits)).toThrow(/@everyone/)
    const badVoice = {
      ...seed,
      voiceStates: [{ userId: W.nonMember, channelId: W.lobby, selfMute: false, selfDeaf: false }],
    }
    expect(() => new World(badVoice, limits)).toThrow(/voice state/)
  })
})
