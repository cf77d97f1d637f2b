import { EmulatorError } from '../errors.ts'
import { leaveGuildSilently } from './bot-membership.ts'
import { Guild, type GuildHost } from './guild.ts'
import type {
  ChannelSeedData,
  ParsedGuildSeed,
  ParsedWorldSeed,
  RoleSeedData,
  VoiceStateSeedData,
} from './seed.ts'

/** Everything a guild starts with, whichever part of the seed describes it. */
export interface GuildData {
  id: string
  name: string
  ownerId: string
  botInGuild: boolean
  botRoles: string[]
  members: { userId: string; roles: string[]; nick: string | null }[]
  roles: RoleSeedData[]
  channels: ChannelSeedData[]
  voiceStates: VoiceStateSeedData[]
  available: boolean
}

/** The default guild as the seed's top-level fields describe it (exactly as before `guilds`). */
export function defaultGuildData(seed: ParsedWorldSeed): GuildData {
  return {
    id: seed.guild.id,
    name: seed.guild.name,
    ownerId: seed.guild.ownerId,
    botInGuild: seed.bot.inGuild,
    botRoles: seed.bot.roles,
    members: seed.users
      .filter((u) => u.member)
      .map((u) => ({ userId: u.id, roles: u.roles, nick: null })),
    roles: seed.roles,
    channels: seed.channels,
    voiceStates: seed.voiceStates,
    available: true,
  }
}

/**
 * A guild of `guilds[]`: its owner is always a member (as on Discord), and an @everyone role
 * (id = guild id) with `everyonePermissions` is added when the seed lists none.
 */
export function extraGuildData(g: ParsedGuildSeed, everyonePermissions: string): GuildData {
  const members = [...g.members]
  if (!members.some((m) => m.userId === g.ownerId)) {
    members.unshift({ userId: g.ownerId, roles: [], nick: null })
  }
  const roles = g.roles.some((r) => r.id === g.id)
    ? g.roles
    : [
        {
          id: g.id,
          name: '@everyone',
          permissions: everyonePermissions,
          position: 0,
          color: 0,
          managed: false,
        },
        ...g.roles,
      ]
  return { ...g, members, roles }
}

/** What seeding needs to know about the world: the host plus the ids already taken. */
interface SeedTarget extends GuildHost {
  readonly guilds: Map<string, Guild>
}

/**
 * Builds a guild from its data without any dispatch (the world as it was before anyone
 * connected), checking what Discord guarantees: an @everyone role, known users, ids unique across
 * the world, voice states of members in voice channels.
 */
export function seedGuild(world: SeedTarget, data: GuildData, joinedAt: string): Guild {
  const bad = (why: string) => new EmulatorError('INVALID_WORLD', `guild ${data.id}: ${why}`)
  if (world.guilds.has(data.id)) throw bad('duplicate guild id')
  if (!data.roles.some((r) => r.id === data.id)) {
    throw new EmulatorError('INVALID_WORLD', 'the world needs an @everyone role (id = guild id)')
  }
  if (!world.users.has(data.ownerId)) throw bad(`unknown owner ${data.ownerId}`)
  const taken = new Set<string>()
  for (const other of world.guilds.values()) {
    for (const id of other.channels.keys()) taken.add(id)
    for (const id of other.roles.keys()) taken.add(id)
  }
  const botRoleIds = new Set(data.botRoles)
  const guild = new Guild(world, {
    id: data.id,
    name: data.name,
    ownerId: data.ownerId,
    joinedAt,
    seededBotRoles: data.roles.filter((r) => botRoleIds.has(r.id) && r.managed),
  })
  guild.members.set(world.botUserId, guild.newMember(world.botUserId, data.botRoles, joinedAt))
  for (const m of data.members) {
    if (!world.users.has(m.userId)) throw bad(`unknown member ${m.userId}`)
    const member = guild.newMember(m.userId, m.roles, joinedAt)
    member.nick = m.nick
    guild.members.set(m.userId, member)
  }
  for (const r of data.roles) {
    if (taken.has(r.id)) throw bad(`role id ${r.id} is used elsewhere`)
    guild.roles.set(r.id, { ...r, permissions: BigInt(r.permissions) })
  }
  for (const c of data.channels) {
    if (taken.has(c.id) || guild.roles.has(c.id)) throw bad(`channel id ${c.id} is used elsewhere`)
    guild.channels.set(c.id, {
      ...c,
      overwrites: c.permissionOverwrites.map((o) => ({
        id: o.id,
        type: o.type,
        allow: BigInt(o.allow),
        deny: BigInt(o.deny),
      })),
    })
  }
  if (!data.botInGuild) leaveGuildSilently(guild)
  for (const v of data.voiceStates) {
    const elsewhere = [...world.guilds.values()].some((g) => g.voice.has(v.userId))
    if (elsewhere && !world.users.get(v.userId)?.bot) {
      throw bad(`${v.userId} is already in voice in another guild (one voice channel at a time)`)
    }
    guild.seedVoice(v)
  }
  guild.available = data.available
  world.guilds.set(guild.id, guild)
  return guild
}
