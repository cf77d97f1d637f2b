import { z } from 'zod'
import { EmulatorError } from '../errors.ts'
import type { Runtime } from '../runtime.ts'
import type { Guild } from '../world/guild.ts'
import { createGuild, createRole, setGuildAvailable } from '../world/guild-ops.ts'
import { recommendedShards, shardOf } from '../world/sharding.ts'

/*
 * Control calls for several guilds and the gateway's sharding rules: create a guild, an outage,
 * members and roles in any guild, and the shard limits. The guild of a call is `guildId`, or the
 * default guild when it is left out.
 */

const Snowflake = z.string().regex(/^\d{17,20}$/, 'must be a snowflake string')
const Bitfield = z.string().regex(/^\d{1,30}$/, 'must be a decimal bitfield string')

export const GuildSchemas = {
  createGuild: z.object({
    id: Snowflake.optional(),
    name: z.string().min(2).max(100),
    ownerId: Snowflake,
    bot: z.boolean().default(true),
    botPermissions: Bitfield.optional(),
    everyonePermissions: Bitfield.optional(),
    roles: z
      .array(
        z.object({
          id: Snowflake.optional(),
          name: z.string().min(1).max(100),
          permissions: Bitfield.default('0'),
          color: z.number().int().min(0).max(0xffffff).optional(),
        }),
      )
      .max(250)
      .default([]),
    channels: z
      .array(
        z.object({
          id: Snowflake.optional(),
          name: z.string().min(1).max(100),
          type: z.union([z.literal(0), z.literal(2), z.literal(4)]),
          parent: z.string().min(1).optional(),
          userLimit: z.number().int().min(0).max(99).optional(),
          bitrate: z.number().int().min(8000).max(384000).optional(),
        }),
      )
      .max(500)
      .default([]),
    members: z
      .array(
        z.union([
          Snowflake.transform((userId) => ({ userId, roles: [] as string[], nick: null })),
          z.object({
            userId: Snowflake,
            roles: z.array(z.string().min(1)).default([]),
            nick: z.string().min(1).max(32).nullish(),
          }),
        ]),
      )
      .default([]),
  }),
  setGuildAvailable: z.object({ guildId: Snowflake, available: z.boolean() }),
  addMember: z.object({
    userId: Snowflake,
    guildId: Snowflake.optional(),
    roles: z.array(Snowflake).default([]),
    nick: z.string().min(1).max(32).nullish(),
  }),
  setMemberRoles: z.object({
    userId: Snowflake,
    guildId: Snowflake.optional(),
    roles: z.array(Snowflake),
  }),
  createRole: z.object({
    guildId: Snowflake.optional(),
    name: z.string().min(1).max(100),
    permissions: Bitfield.default('0'),
    color: z.number().int().min(0).max(0xffffff).optional(),
  }),
  setSharding: z.object({
    guildsPerShard: z.number().int().min(1).optional(),
    maxConcurrency: z.number().int().min(1).max(1024).optional(),
  }),
}

export type CreateGuildInput = z.input<typeof GuildSchemas.createGuild>
export type SetGuildAvailableInput = z.input<typeof GuildSchemas.setGuildAvailable>
export type AddMemberInput = z.input<typeof GuildSchemas.addMember>
export type SetMemberRolesInput = z.input<typeof GuildSchemas.setMemberRoles>
export type CreateRoleInput = z.input<typeof GuildSchemas.createRole>
export type SetShardingInput = z.input<typeof GuildSchemas.setSharding>

/** One guild in `state().guilds` (and what `createGuild` answers). */
export interface GuildState {
  id: string
  name: string
  ownerId: string
  /** Whether the bot is a member. */
  botInGuild: boolean
  /** False during an outage (`setGuildAvailable`). */
  available: boolean
  /** The shard that owns it under the recommended count: `[shard_id, num_shards]`. */
  shard: [number, number]
  members: { userId: string; roles: string[]; nick: string | null }[]
  roles: { id: string; name: string; permissions: string; position: number; managed: boolean }[]
  channels: {
    id: string
    name: string
    type: 0 | 2 | 4
    parentId: string | null
    position: number
    userLimit: number
  }[]
  voiceStates: {
    userId: string
    channelId: string
    selfMute: boolean
    selfDeaf: boolean
    selfVideo: boolean
    selfStream: boolean
    mute: boolean
    deaf: boolean
  }[]
}

/** The sharding rules in effect and the shard count `GET /gateway/bot` recommends. */
export interface ShardingState {
  guildsPerShard: number
  maxConcurrency: number
  recommendedShards: number
}

/** The guild part of the control surface. */
export interface GuildControl {
  /** Creates a guild (with the bot in it unless `bot: false`: GUILD_CREATE on its shard). */
  createGuild(input: CreateGuildInput): GuildState
  /** An outage (GUILD_DELETE `unavailable: true`) or its end (GUILD_CREATE). */
  setGuildAvailable(input: SetGuildAvailableInput): void
  /** Adds a user to a guild (GUILD_MEMBER_ADD); `added: false` when already a member. */
  addMember(input: AddMemberInput): { added: boolean }
  /** Replaces a member's roles (GUILD_MEMBER_UPDATE), e.g. a role with Manage Server. */
  setMemberRoles(input: SetMemberRolesInput): void
  /** Creates a role right above @everyone (GUILD_ROLE_CREATE). */
  createRole(input: CreateRoleInput): { id: string }
  /** Changes the sharding rules for later IDENTIFYs and GET /gateway/bot. */
  setSharding(input: SetShardingInput): ShardingState
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input)
  if (!result.success) {
    throw new EmulatorError('INVALID_INPUT', z.prettifyError(result.error).replace(/\n/g, '; '))
  }
  return result.data
}

/** A guild by id (the default guild when `guildId` is undefined), or 404 UNKNOWN_GUILD. */
export function guildOf(rt: Runtime, guildId: string | undefined): Guild {
  const guild = rt.world.guild(guildId ?? rt.world.guildId)
  if (!guild) throw new EmulatorError('UNKNOWN_GUILD', `unknown guild ${guildId}`)
  return guild
}

/** The sharding rules and recommendation as `state()` reports them. */
export function shardingState(rt: Runtime): ShardingState {
  const { guildsPerShard, maxConcurrency } = rt.world.sharding
  const ids = rt.world.botGuilds().map((g) => g.id)
  return {
    guildsPerShard,
    maxConcurrency,
    recommendedShards: recommendedShards(ids, guildsPerShard),
  }
}

/** A guild as `state().guilds` lists it. */
export function guildState(guild: Guild, numShards: number): GuildState {
  return {
    id: guild.id,
    name: guild.name,
    ownerId: guild.ownerId,
    botInGuild: guild.botInGuild,
    available: guild.available,
    shard: [shardOf(guild.id, numShards), numShards],
    members: [...guild.members.values()].map((m) => ({
      userId: m.userId,
      roles: [...m.roles],
      nick: m.nick,
    })),
    roles: [...guild.roles.values()].map((r) => ({
      id: r.id,
      name: r.name,
      permissions: r.permissions.toString(),
      position: r.position,
      managed: r.managed,
    })),
    channels: [...guild.channels.values()].map((c) => ({
      id: c.id,
      name: c.name,
      type: c.type,
      parentId: c.parentId,
      position: c.position,
      userLimit: c.userLimit,
    })),
    voiceStates: [...guild.voice.values()].map(({ sessionId: _s, ...v }) => v),
  }
}

/** Builds the guild control calls over a runtime. */
export function createGuildControl(rt: Runtime): GuildControl {
  const member = (guild: Guild, userId: string) => {
    if (!guild.members.has(userId)) {
      throw new EmulatorError('UNKNOWN_USER', `${userId} is not a member of ${guild.id}`)
    }
  }
  const roles = (guild: Guild, ids: string[]) => {
    for (const id of ids) {
      if (!guild.roles.has(id) || id === guild.id) {
        throw new EmulatorError('INVALID_INPUT', `unknown role ${id} in guild ${guild.id}`)
      }
    }
  }
  return {
    createGuild(input) {
      const d = parse(GuildSchemas.createGuild, input)
      const guild = createGuild(rt.world, {
        ...d,
        members: d.members.map((m) => ({ userId: m.userId, roles: m.roles, nick: m.nick ?? null })),
      })
      return guildState(guild, shardingState(rt).recommendedShards)
    },
    setGuildAvailable(input) {
      const d = parse(GuildSchemas.setGuildAvailable, input)
      setGuildAvailable(guildOf(rt, d.guildId), d.available)
    },
    addMember(input) {
      const d = parse(GuildSchemas.addMember, input)
      const guild = guildOf(rt, d.guildId)
      if (!rt.world.users.has(d.userId)) {
        throw new EmulatorError('UNKNOWN_USER', `unknown user ${d.userId}`)
      }
      roles(guild, d.roles)
      return { added: guild.addMember(d.userId, { roles: d.roles, nick: d.nick ?? null }) }
    },
    setMemberRoles(input) {
      const d = parse(GuildSchemas.setMemberRoles, input)
      const guild = guildOf(rt, d.guildId)
      member(guild, d.userId)
      roles(guild, d.roles)
      guild.updateMember(d.userId, { roles: [...new Set(d.roles)] })
    },
    createRole(input) {
      const d = parse(GuildSchemas.createRole, input)
      const guild = guildOf(rt, d.guildId)
      const role = createRole(guild, {
        name: d.name,
        permissions: BigInt(d.permissions),
        color: d.color,
      })
      return { id: role.id }
    },
    setSharding(input) {
      const d = parse(GuildSchemas.setSharding, input)
      if (d.guildsPerShard !== undefined) rt.world.sharding.guildsPerShard = d.guildsPerShard
      if (d.maxConcurrency !== undefined) rt.world.sharding.maxConcurrency = d.maxConcurrency
      return shardingState(rt)
    },
  }
}
