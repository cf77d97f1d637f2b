import { GatewayDispatchEvents as E, GatewayIntentBits as I } from 'discord-api-types/v10'
import { EmulatorError } from '../errors.ts'
import { addBotToGuild } from './bot-membership.ts'
import { DEFAULT_EVERYONE_PERMISSIONS } from './default-world.ts'
import type { Guild } from './guild.ts'
import { type GuildData, seedGuild } from './guild-seed.ts'
import type { World } from './world.ts'

/*
 * Guild-level changes made from outside the bot's reach: a person creating a server, Discord
 * having an outage, a server admin creating a role. Each emits what Discord sends.
 */

/** A new guild as the control API describes it. */
export interface NewGuild {
  id?: string | undefined
  name: string
  ownerId: string
  /** Whether the bot is installed at once (GUILD_CREATE). */
  bot: boolean
  botPermissions?: string | undefined
  everyonePermissions?: string | undefined
  roles: {
    id?: string | undefined
    name: string
    permissions: string
    color?: number | undefined
  }[]
  channels: {
    id?: string | undefined
    name: string
    type: 0 | 2 | 4
    /** The name or id of a category listed before it. */
    parent?: string | undefined
    userLimit?: number | undefined
    bitrate?: number | undefined
  }[]
  /** `roles`: names of roles of this call, or role ids. */
  members: { userId: string; roles: string[]; nick?: string | null | undefined }[]
}

/**
 * Creates a guild owned by `ownerId` (a member, as on Discord), with its @everyone role, roles
 * (positions 1… in order), channels and members, all before the bot sees it. With `bot` the bot is
 * then installed: its managed role is created on top and its sessions get GUILD_CREATE.
 */
export function createGuild(world: World, input: NewGuild): Guild {
  const id = input.id ?? world.nextGuildId()
  if (world.guilds.has(id)) throw new EmulatorError('INVALID_INPUT', `guild ${id} exists`)
  if (!world.users.has(input.ownerId)) {
    throw new EmulatorError('UNKNOWN_USER', `unknown user ${input.ownerId}`)
  }
  const roles = input.roles.map((r, i) => ({
    id: r.id ?? world.ids.next(),
    name: r.name,
    permissions: r.permissions,
    position: i + 1,
    color: r.color ?? 0,
    managed: false,
  }))
  const roleRef = (ref: string) => {
    const found = roles.find((r) => r.name === ref || r.id === ref)
    if (!found) throw new EmulatorError('INVALID_INPUT', `unknown role ${ref} in guild ${id}`)
    return found.id
  }
  const channels: GuildData['channels'] = []
  input.channels.forEach((c, i) => {
    let parentId: string | null = null
    if (c.parent !== undefined) {
      const parent = channels.find(
        (p) => p.type === 4 && (p.name === c.parent || p.id === c.parent),
      )
      if (!parent || c.type === 4) {
        throw new EmulatorError('INVALID_INPUT', `${c.name}: no category ${c.parent} before it`)
      }
      parentId = parent.id
    }
    channels.push({
      id: c.id ?? world.ids.next(),
      name: c.name,
      type: c.type,
      parentId,
      position: i,
      userLimit: c.type === 2 ? (c.userLimit ?? 0) : 0,
      bitrate: c.type === 2 ? (c.bitrate ?? 64000) : 64000,
      permissionOverwrites: [],
    })
  })
  const members = input.members
    .filter((m) => m.userId !== world.botUserId)
    .map((m) => ({ userId: m.userId, roles: m.roles.map(roleRef), nick: m.nick ?? null }))
  if (!members.some((m) => m.userId === input.ownerId)) {
    members.unshift({ userId: input.ownerId, roles: [], nick: null })
  }
  for (const m of members) {
    if (!world.users.has(m.userId))
      throw new EmulatorError('UNKNOWN_USER', `unknown user ${m.userId}`)
  }
  const everyone = {
    id,
    name: '@everyone',
    permissions: input.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS,
    position: 0,
    color: 0,
    managed: false,
  }
  let guild: Guild
  try {
    guild = seedGuild(
      world,
      {
        id,
        name: input.name,
        ownerId: input.ownerId,
        botInGuild: false,
        botRoles: [],
        members,
        roles: [everyone, ...roles],
        channels,
        voiceStates: [],
        available: true,
      },
      new Date().toISOString(),
    )
  } catch (err) {
    // A clash with an existing id is the caller's input, not a broken world file.
    if (err instanceof EmulatorError) throw new EmulatorError('INVALID_INPUT', err.message)
    throw err
  }
  if (input.bot) {
    addBotToGuild(
      guild,
      input.botPermissions === undefined ? undefined : BigInt(input.botPermissions),
    )
  }
  return guild
}

/**
 * An outage (`available: false`): the bot's sessions on the guild's shard get GUILD_DELETE with
 * `unavailable: true` and nothing else of that guild until it comes back (`true`): GUILD_CREATE
 * with the guild as it is then (docs events/gateway-events "Guild Delete", "Guild Create").
 * Returns false when nothing changed.
 */
export function setGuildAvailable(guild: Guild, available: boolean): boolean {
  if (guild.available === available) return false
  if (!available) {
    guild.emit(E.GuildDelete, { id: guild.id, unavailable: true }, I.Guilds)
    guild.available = false
    return true
  }
  guild.available = true
  if (guild.botInGuild) guild.emit(E.GuildCreate, guild.guildCreate(), I.Guilds)
  return true
}

/** Creates a role right above @everyone, as Discord does (GUILD_ROLE_CREATE). */
export function createRole(
  guild: Guild,
  input: { name: string; permissions: bigint; color?: number | undefined },
) {
  const id = guild.host.ids.next()
  for (const r of guild.roles.values()) if (r.id !== guild.id) r.position++
  guild.roles.set(id, {
    id,
    name: input.name,
    permissions: input.permissions,
    position: 1,
    color: input.color ?? 0,
    managed: false,
  })
  guild.emit(E.GuildRoleCreate, { guild_id: guild.id, role: guild.apiRole(id) }, I.Guilds)
  return guild.roles.get(id)!
}
