import { PermissionFlagsBits as P } from 'discord-api-types/v10'
import { z } from 'zod'
import type { Guild } from '../world/guild.ts'
import { has } from '../world/permissions.ts'
import type { ChannelRecord } from '../world/types.ts'
import { Errors, zodFormError } from './errors.ts'
import type { RestContext } from './route.ts'

/**
 * The path's guild: 404 10004 for an unknown one; 403 50001 when the bot is not in it (a guild's
 * sub-resources answer Missing Access to an app outside the guild).
 */
export function requireGuild(ctx: RestContext): Guild {
  const guild = ctx.rt.world.guild(ctx.params.guildId ?? '')
  if (!guild) throw Errors.unknownGuild()
  if (!guild.botInGuild) throw Errors.missingAccess()
  return guild
}

/** The path's channel and its guild, or 404 10003; 403 50001 when the bot cannot see it. */
export function requireChannel(ctx: RestContext): { guild: Guild; channel: ChannelRecord } {
  const id = ctx.params.channelId ?? ''
  const guild = ctx.rt.world.channelGuild(id)
  const channel = guild?.channels.get(id)
  if (!guild || !channel) throw Errors.unknownChannel()
  const perms = guild.channelPermissions(guild.botUserId, channel.id)
  if (!has(perms, P.ViewChannel)) throw Errors.missingAccess()
  return { guild, channel }
}

/** 403 50013 unless the bot holds `needed` in the channel (or guild-wide when no channel). */
export function requireBotPermission(guild: Guild, needed: bigint, channelId?: string): void {
  const perms = channelId
    ? guild.channelPermissions(guild.botUserId, channelId)
    : guild.basePermissions(guild.botUserId)
  if (!has(perms, needed)) throw Errors.missingPermissions()
}

/** Parses the JSON body with a schema; 50035 with Discord's `errors` tree on failure. */
export function parseBody<S extends z.ZodType>(
  ctx: RestContext,
  schema: S,
  fallback?: unknown,
): z.output<S> {
  const raw = ctx.json() ?? fallback
  const result = schema.safeParse(raw)
  if (!result.success) throw zodFormError(result.error.issues, raw)
  return result.data
}

/** A snowflake field. */
export const SnowflakeField = z
  .string()
  .regex(/^\d{17,20}$/, 'NUMBER_TYPE_COERCE|Value is not snowflake.')

/** A permission bitfield as Discord accepts it (decimal string or number; null = 0). */
export const BitfieldField = z
  .union([
    z.string().regex(/^\d{1,30}$/, 'NUMBER_TYPE_COERCE|Value is not int.'),
    z.number().int().min(0),
  ])
  .nullish()
  .transform((v) => BigInt(v ?? 0))

/** A permission overwrite in a request body. */
export const OverwriteField = z.object({
  id: SnowflakeField,
  type: z.union([z.literal(0), z.literal(1)], {
    message: 'BASE_TYPE_CHOICES|Value must be one of {0, 1}.',
  }),
  allow: BitfieldField,
  deny: BitfieldField,
})

/**
 * Discord's rule for overwrites written by the bot: it may only allow or deny permissions it
 * holds itself (in the parent channel, or guild-wide), and MANAGE_ROLES needs ADMINISTRATOR.
 */
export function checkOverwritesGrantable(
  guild: Guild,
  overwrites: { allow: bigint; deny: bigint }[],
  scopeChannelId: string | null,
): void {
  const bot = guild.botUserId
  const held = scopeChannelId
    ? guild.channelPermissions(bot, scopeChannelId)
    : guild.basePermissions(bot)
  const admin = has(guild.basePermissions(bot), P.Administrator)
  for (const o of overwrites) {
    const bits = o.allow | o.deny
    if ((bits & ~held) !== 0n) throw Errors.missingPermissions()
    if ((bits & P.ManageRoles) !== 0n && !admin) throw Errors.missingPermissions()
  }
}
