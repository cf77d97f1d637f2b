import { z } from 'zod'
import { EpochMsSchema, SnowflakeSchema } from './common'

/**
 * Community servers (ROOMS_COMMUNITY=1): Discord servers that installed the bot, where their
 * members create rooms. Who may do what is read from the signed-in user's own guild list
 * (`GET /users/@me/guilds`, OAuth2 `guilds` scope); each server's room settings are kept by
 * the app beside the rooms. specs/017-discord-gateway-real/contracts/server-functions.md.
 */

/** Discord's Manage Server permission bit (MANAGE_GUILD). */
export const MANAGE_GUILD_BIT = 0x20n

/** Longest category name Discord accepts for a channel. */
export const MAX_CATEGORY_NAME_LENGTH = 100
/** Most open rooms a server may allow: Discord's 500 channels, less some for its own channels. */
export const MAX_SERVER_OPEN_ROOMS = 490

/** Discord's Administrator permission bit: it implies every other permission. */
export const ADMINISTRATOR_BIT = 0x8n

/**
 * Whether a partial guild of `GET /users/@me/guilds` says its user may manage it: the owner, or
 * `permissions` (a decimal string) holding Manage Server, or Administrator (which implies it).
 */
export function canManageGuild(guild: { owner: boolean; permissions: string }): boolean {
  if (guild.owner) return true
  try {
    const bits = BigInt(guild.permissions)
    return (bits & (MANAGE_GUILD_BIT | ADMINISTRATOR_BIT)) !== 0n
  } catch {
    return false
  }
}

/** A category name as stored: trimmed, 1 to 100 characters. */
export const CategoryNameSchema = z
  .string()
  .transform((raw) => raw.normalize('NFC').replace(/\s+/g, ' ').trim())
  .pipe(
    z
      .string()
      .min(1, 'A category name needs at least one visible character.')
      .max(MAX_CATEGORY_NAME_LENGTH),
  )

/** What a server's managers decide about rooms there. */
export const ServerRoomSettingsSchema = z.object({
  /** Rooms can be created in this server (it is offered in the "Server" picker). */
  roomsEnabled: z.boolean(),
  /** The name of the category the server's room channels go in. */
  categoryName: CategoryNameSchema,
  /** The most rooms open at once in this server. */
  maxOpenRooms: z.number().int().min(1).max(MAX_SERVER_OPEN_ROOMS),
  /** A role a member must hold to create rooms there; null: every member may. */
  requiredRoleId: SnowflakeSchema.nullable(),
})
export type ServerRoomSettings = z.infer<typeof ServerRoomSettingsSchema>

/** A server's settings until its managers save some: rooms on, for every member. */
export const DEFAULT_SERVER_ROOM_SETTINGS: ServerRoomSettings = Object.freeze({
  roomsEnabled: true,
  categoryName: 'Table Voice rooms',
  maxOpenRooms: 50,
  requiredRoleId: null,
})

/** A server's settings as stored (data-model.md "Server room settings"). */
export const StoredServerSettingsSchema = ServerRoomSettingsSchema.extend({
  guildId: SnowflakeSchema,
  updatedAt: EpochMsSchema,
  /** The manager who saved them. */
  updatedBy: SnowflakeSchema,
})
export type StoredServerSettings = z.infer<typeof StoredServerSettingsSchema>

/** One of the signed-in user's servers that the bot is in too. */
export const MyServerSchema = z.object({
  id: SnowflakeSchema,
  name: z.string().min(1).max(100),
  /** Rooms are enabled there and the user holds the required role, if any: offered in the picker. */
  canCreateRooms: z.boolean(),
  /** The user may open and save the server's settings (owner or Manage Server). */
  canManage: z.boolean(),
})
export type MyServer = z.infer<typeof MyServerSchema>

/** `listMyServers`: off when the deployment does not offer community servers. */
export const MyServersSchema = z.object({
  community: z.boolean(),
  servers: z.array(MyServerSchema),
})
export type MyServers = z.infer<typeof MyServersSchema>

export const ServerRefInputSchema = z.object({ guildId: SnowflakeSchema })

/** A role of the server, for the "Role required to create rooms" select. */
export const ServerRoleSchema = z.object({
  id: SnowflakeSchema,
  name: z.string().min(1).max(100),
})
export type ServerRole = z.infer<typeof ServerRoleSchema>

/** `getServerSettings`: the server, its settings (defaults until saved) and its roles. */
export const ServerSettingsViewSchema = z.object({
  guild: z.object({ id: SnowflakeSchema, name: z.string() }),
  settings: ServerRoomSettingsSchema,
  /** Roles a member can be given (not @everyone, not bots' managed roles), highest first. */
  roles: z.array(ServerRoleSchema),
  /** When they were last saved (null: defaults). */
  updatedAt: EpochMsSchema.nullable(),
})
export type ServerSettingsView = z.infer<typeof ServerSettingsViewSchema>

/** `saveServerSettings`. */
export const SaveServerSettingsInputSchema = ServerRoomSettingsSchema.extend({
  guildId: SnowflakeSchema,
})
export type SaveServerSettingsInput = z.infer<typeof SaveServerSettingsInputSchema>
