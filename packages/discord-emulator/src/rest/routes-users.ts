import { z } from 'zod'
import { toApiApplication } from '../world/application.ts'
import { removeBotFromGuild } from '../world/bot-membership.ts'
import type { Guild } from '../world/guild.ts'
import { recommendedShards } from '../world/sharding.ts'
import { Errors, zodFormError } from './errors.ts'
import { type RestContext, type RestResult, type RouteDef, route } from './route.ts'

/** The bot's application object (docs resources/application "Get Current Application"). */
function currentApplication({ rt }: RestContext): RestResult {
  const w = rt.world
  const bot = w.users.get(w.botUserId)
  if (!bot) throw Errors.unauthorized()
  return { status: 200, body: toApiApplication(w.application, bot, w.users.get(w.ownerId)) }
}

const SnowflakeQuery = z.string().regex(/^\d{1,20}$/, 'NUMBER_TYPE_COERCE|Value is not snowflake.')

/** Get Current User Guilds' query string (docs resources/user). */
const UserGuildsQuery = z.object({
  before: SnowflakeQuery.optional(),
  after: SnowflakeQuery.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(200),
  with_counts: z.enum(['true', 'false', 'True', 'False', '1', '0']).optional(),
})

/** A partial guild as `GET /users/@me/guilds` lists it for `userId`. */
function partialGuild(guild: Guild, userId: string, withCounts: boolean) {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    banner: null,
    owner: userId === guild.ownerId,
    permissions: guild.basePermissions(userId).toString(),
    features: [],
    ...(withCounts
      ? {
          approximate_member_count: guild.members.size,
          approximate_presence_count: guild.voice.size,
        }
      : {}),
  }
}

/**
 * Get Current User Guilds: the guilds of the token's user (a Bearer token needs the `guilds`
 * scope, else 401 as Discord answers), or the bot's own guilds with a Bot token. Partial guilds
 * sorted by id; `after` and `before` page by id, `limit` 1-200 (default 200), `with_counts` adds
 * the approximate counts (docs resources/user "Get Current User Guilds").
 */
function currentUserGuilds({ rt, auth, query }: RestContext): RestResult {
  if (auth.kind === 'bearer' && !auth.scopes.includes('guilds')) throw Errors.unauthorized()
  const raw = Object.fromEntries(query)
  const parsed = UserGuildsQuery.safeParse(raw)
  if (!parsed.success) throw zodFormError(parsed.error.issues, raw)
  const q = parsed.data
  const userId = auth.kind === 'bearer' ? auth.userId : rt.world.botUserId
  const withCounts = ['true', 'True', '1'].includes(q.with_counts ?? '')
  let guilds = rt.world.userGuilds(userId).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
  if (q.after !== undefined) guilds = guilds.filter((g) => BigInt(g.id) > BigInt(q.after ?? 0))
  if (q.before !== undefined) {
    // The `limit` guilds closest below `before`, still in ascending order.
    guilds = guilds.filter((g) => BigInt(g.id) < BigInt(q.before ?? 0)).slice(-q.limit)
  }
  const page = guilds.slice(0, q.limit).map((g) => partialGuild(g, userId, withCounts))
  return { status: 200, body: page }
}

/** Gateway discovery, the current user, their guilds and the current application. */
export const userRoutes: RouteDef[] = [
  route('GET', '/gateway', 'none', ({ rt }) => ({
    status: 200,
    body: { url: rt.urls.gatewayUrl },
  })),
  // `shards` is the recommended count for the guilds the bot is in (docs events/gateway
  // "Get Gateway Bot"); see recommendedShards.
  route('GET', '/gateway/bot', 'bot', ({ rt }) => ({
    status: 200,
    body: {
      url: rt.urls.gatewayUrl,
      shards: recommendedShards(
        rt.world.botGuilds().map((g) => g.id),
        rt.world.sharding.guildsPerShard,
      ),
      session_start_limit: rt.gateway.sessionStartLimit(),
    },
  })),
  route('GET', '/users/@me', 'either', ({ rt, auth }) => {
    if (auth.kind === 'bot') return { status: 200, body: rt.world.apiUser(rt.world.botUserId) }
    if (auth.kind !== 'bearer' || !auth.scopes.includes('identify')) throw Errors.unauthorized()
    const user = rt.world.apiUser(auth.userId)
    if (!user) throw Errors.unauthorized()
    const email = auth.scopes.includes('email')
      ? { email: `${user.username.replace(/[^a-z0-9]/gi, '')}@users.emulator.test`, verified: true }
      : {}
    return { status: 200, body: { ...user, locale: 'en-US', mfa_enabled: false, ...email } }
  }),
  route('GET', '/applications/@me', 'bot', currentApplication),
  // The older "Get Current Bot Application Information" (docs topics/oauth2).
  route('GET', '/oauth2/applications/@me', 'bot', currentApplication),
  route('GET', '/users/@me/guilds', 'either', currentUserGuilds),
  route('GET', '/users/@me/guilds/:guildId/member', 'bearer', ({ rt, auth, params }) => {
    if (auth.kind !== 'bearer' || !auth.scopes.includes('guilds.members.read')) {
      throw Errors.unauthorized()
    }
    const member = rt.world.guild(params.guildId ?? '')?.apiMember(auth.userId)
    if (!member) throw Errors.unknownGuild()
    return { status: 200, body: member }
  }),
  // Leave Guild (docs resources/user): the bot leaves; its sessions get GUILD_DELETE.
  route('DELETE', '/users/@me/guilds/:guildId', 'bot', ({ rt, params }) => {
    const guild = rt.world.guild(params.guildId ?? '')
    if (!guild?.botInGuild) throw Errors.unknownGuild()
    removeBotFromGuild(guild)
    return { status: 204 }
  }),
  route('GET', '/users/:userId', 'bot', ({ rt, params }) => {
    const user = rt.world.apiUser(params.userId ?? '')
    if (!user) throw Errors.unknownUser()
    return { status: 200, body: user }
  }),
]
