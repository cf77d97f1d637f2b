import { DiscordAPIError } from '@discordjs/rest'
import { Routes } from 'discord-api-types/v10'
import { z } from 'zod'
import { AppError } from '../app-error'
import { SnowflakeSchema } from '../contracts/common'
import { toDiscordFailure } from './discord-failures'
import type { DiscordRest } from './discord-rest'
import { withDiscordRetry } from './retry'

/**
 * The guild reads community servers need: the signed-in user's guilds (their OAuth2 token with the
 * `guilds` scope), the bot's guilds, a member's roles and a guild's roles (the bot's token). Every
 * answer is validated; every failure is an AppError.
 */

/** A partial guild of `GET /users/@me/guilds`. */
export interface PartialGuild {
  id: string
  name: string
  /** The token's user owns the guild. */
  owner: boolean
  /** The user's base permissions there, a decimal string. */
  permissions: string
}

const PartialGuildSchema = z.object({
  id: SnowflakeSchema,
  name: z.string().min(1).max(100),
  owner: z.boolean().optional(),
  permissions: z
    .string()
    .regex(/^\d{1,40}$/)
    .optional(),
})
const PartialGuildsSchema = z.array(PartialGuildSchema)

/** Discord's page size for `GET /users/@me/guilds` (its maximum). */
const PAGE = 200
/** Pages read at most (a user is in 200 guilds at most, 500 with Nitro; bots may be in many). */
const MAX_PAGES = 50

async function pagedGuilds(
  rest: DiscordRest,
  auth: { auth: false; headers: Record<string, string> } | { auth: true },
): Promise<PartialGuild[]> {
  const guilds: PartialGuild[] = []
  let after: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ limit: String(PAGE) })
    if (after) query.set('after', after)
    const raw = await withDiscordRetry(() => rest.get(Routes.userGuilds(), { ...auth, query }))
    const parsed = PartialGuildsSchema.parse(raw)
    for (const g of parsed) {
      guilds.push({
        id: g.id,
        name: g.name,
        owner: g.owner ?? false,
        permissions: g.permissions ?? '0',
      })
    }
    if (parsed.length < PAGE) break
    after = parsed.at(-1)?.id
  }
  return guilds
}

/**
 * The signed-in user's guilds, with their permissions there (`GET /users/@me/guilds` with their
 * access token, every page).
 * @throws AppError SERVERS_SIGN_IN when Discord refuses the token (401: signed in before the app
 *   asked for the `guilds` scope, or the authorization was revoked): a new sign-in fixes both;
 *   RATE_LIMITED, DISCORD_UNAVAILABLE otherwise
 * @see https://discord.com/developers/docs/resources/user#get-current-user-guilds
 */
export async function fetchUserGuilds(
  rest: DiscordRest,
  accessToken: string,
): Promise<PartialGuild[]> {
  try {
    return await pagedGuilds(rest, {
      auth: false,
      headers: { Authorization: `Bearer ${accessToken}` },
    })
  } catch (error) {
    if (error instanceof DiscordAPIError && error.status === 401) {
      throw new AppError('SERVERS_SIGN_IN', { cause: error })
    }
    throw failure(error)
  }
}

/** The ids of the guilds the bot is in (`GET /users/@me/guilds` with the bot token). */
export async function fetchBotGuildIds(rest: DiscordRest): Promise<Set<string>> {
  try {
    return new Set((await pagedGuilds(rest, { auth: true })).map((g) => g.id))
  } catch (error) {
    throw failure(error)
  }
}

const MemberSchema = z.object({ roles: z.array(SnowflakeSchema) })

/**
 * The role ids of a guild member (`GET /guilds/{g}/members/{u}` with the bot token); null when
 * the user is not a member (10007 Unknown Member).
 * @see https://discord.com/developers/docs/resources/guild#get-guild-member
 */
export async function fetchMemberRoles(
  rest: DiscordRest,
  guildId: string,
  userId: string,
): Promise<string[] | null> {
  try {
    const raw = await withDiscordRetry(() => rest.get(Routes.guildMember(guildId, userId)))
    return MemberSchema.parse(raw).roles
  } catch (error) {
    if (error instanceof DiscordAPIError && error.code === 10007) return null
    throw failure(error)
  }
}

const RoleSchema = z.object({
  id: SnowflakeSchema,
  name: z.string(),
  position: z.number().int(),
  managed: z.boolean().optional(),
})

/** A role of a guild, as the settings page offers it. */
export interface GuildRole {
  id: string
  name: string
  position: number
  /** A bot's or an integration's own role, which nobody can be given. */
  managed: boolean
}

/**
 * A guild's roles, highest first (`GET /guilds/{g}/roles` with the bot token).
 * @see https://discord.com/developers/docs/resources/guild#get-guild-roles
 */
export async function fetchGuildRoles(rest: DiscordRest, guildId: string): Promise<GuildRole[]> {
  try {
    const raw = await withDiscordRetry(() => rest.get(Routes.guildRoles(guildId)))
    return z
      .array(RoleSchema)
      .parse(raw)
      .map((r) => ({ id: r.id, name: r.name, position: r.position, managed: r.managed ?? false }))
      .sort((a, b) => b.position - a.position || (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
  } catch (error) {
    throw failure(error)
  }
}

/** A Discord failure, or an answer that is not what Discord documents, as the app's error. */
function failure(error: unknown): AppError {
  if (error instanceof z.ZodError) return new AppError('DISCORD_UNAVAILABLE', { cause: error })
  return toDiscordFailure(error)
}
