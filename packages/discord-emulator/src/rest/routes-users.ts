import { toApiApplication } from '../world/application.ts'
import { removeBotFromGuild } from '../world/bot-membership.ts'
import { Errors } from './errors.ts'
import { type RestContext, type RestResult, type RouteDef, route } from './route.ts'

/** The bot's application object (docs resources/application "Get Current Application"). */
function currentApplication({ rt }: RestContext): RestResult {
  const w = rt.world
  const bot = w.users.get(w.botUserId)
  if (!bot) throw Errors.unauthorized()
  return { status: 200, body: toApiApplication(w.application, bot, w.users.get(w.ownerId)) }
}

/** Gateway discovery, the current user, their guilds and the current application. */
export const userRoutes: RouteDef[] = [
  route('GET', '/gateway', 'none', ({ rt }) => ({
    status: 200,
    body: { url: rt.urls.gatewayUrl },
  })),
  route('GET', '/gateway/bot', 'bot', ({ rt }) => ({
    status: 200,
    body: {
      url: rt.urls.gatewayUrl,
      shards: 1,
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
  route('GET', '/users/@me/guilds', 'either', ({ rt, auth, query }) => {
    const userId = auth.kind === 'bearer' ? auth.userId : rt.world.botUserId
    if (auth.kind === 'bearer' && !auth.scopes.includes('guilds')) throw Errors.unauthorized()
    if (!rt.world.members.has(userId)) return { status: 200, body: [] }
    const perms = rt.world.basePermissions(userId)
    const g = rt.world.apiGuild()
    const counts =
      query.get('with_counts') === 'true'
        ? {
            approximate_member_count: rt.world.members.size,
            approximate_presence_count: rt.world.voice.size,
          }
        : {}
    const partial = {
      id: g.id,
      name: g.name,
      icon: null,
      banner: null,
      owner: userId === rt.world.ownerId,
      permissions: perms.toString(),
      features: [],
      ...counts,
    }
    return { status: 200, body: [partial] }
  }),
  route('GET', '/users/@me/guilds/:guildId/member', 'bearer', ({ rt, auth, params }) => {
    if (auth.kind !== 'bearer' || !auth.scopes.includes('guilds.members.read')) {
      throw Errors.unauthorized()
    }
    if (params.guildId !== rt.world.guildId) throw Errors.unknownGuild()
    const member = rt.world.apiMember(auth.userId)
    if (!member) throw Errors.unknownGuild()
    return { status: 200, body: member }
  }),
  // Leave Guild (docs resources/user): the bot leaves; its sessions get GUILD_DELETE.
  route('DELETE', '/users/@me/guilds/:guildId', 'bot', ({ rt, params }) => {
    if (params.guildId !== rt.world.guildId || !rt.world.botInGuild) throw Errors.unknownGuild()
    removeBotFromGuild(rt.world)
    return { status: 204 }
  }),
  route('GET', '/users/:userId', 'bot', ({ rt, params }) => {
    const user = rt.world.apiUser(params.userId ?? '')
    if (!user) throw Errors.unknownUser()
    return { status: 200, body: user }
  }),
]
