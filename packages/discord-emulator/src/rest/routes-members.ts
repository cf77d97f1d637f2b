import { PermissionFlagsBits as P } from 'discord-api-types/v10'
import { z } from 'zod'
import { has } from '../world/permissions.ts'
import { Errors, formError, zodFormError } from './errors.ts'
import { parseBody, requireBotPermission, requireGuild, SnowflakeField } from './guards.ts'
import { type RestContext, type RouteDef, route } from './route.ts'

const AddMemberBody = z.object({
  access_token: z.string().min(1),
  nick: z.string().min(1).max(32).nullish(),
  roles: z.array(SnowflakeField).nullish(),
  mute: z.boolean().nullish(),
  deaf: z.boolean().nullish(),
})

const ListMembersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(1),
  after: z
    .string()
    .regex(/^\d{1,20}$/)
    .default('0'),
})

const SearchMembersQuery = z.object({
  query: z.string(),
  limit: z.coerce.number().int().min(1).max(1000).default(1),
})

const EditCurrentMemberBody = z.object({ nick: z.string().max(32).nullish() })

const EditVoiceStateBody = z.object({
  channel_id: SnowflakeField.optional(),
  suppress: z.boolean().optional(),
  request_to_speak_timestamp: z.string().nullish(),
})

const EditMemberBody = z.object({
  nick: z.string().max(32).nullish(),
  roles: z.array(SnowflakeField).nullish(),
  mute: z.boolean().nullish(),
  deaf: z.boolean().nullish(),
  channel_id: SnowflakeField.nullish(),
  communication_disabled_until: z.string().nullish(),
})

/** Highest role position the bot holds (it can only manage roles below it). */
function botTopPosition(ctx: RestContext): number {
  const world = ctx.rt.world
  const roles = world.members.get(world.botUserId)?.roles ?? []
  return Math.max(0, ...roles.map((id) => world.roles.get(id)?.position ?? 0))
}

function checkAssignableRoles(ctx: RestContext, roleIds: string[]): void {
  const world = ctx.rt.world
  requireBotPermission(ctx, P.ManageRoles)
  const top = botTopPosition(ctx)
  roleIds.forEach((id, i) => {
    const role = world.roles.get(id)
    if (!role || id === world.guildId) {
      throw formError([
        { path: ['roles', i], error: { code: 'UNKNOWN_ROLE', message: 'Unknown role' } },
      ])
    }
    if (role.managed || role.position >= top) throw Errors.missingPermissions()
  })
}

/** Guild member and voice-state routes. */
export const memberRoutes: RouteDef[] = [
  route('GET', '/guilds/:guildId/members', 'bot', (ctx) => {
    requireGuild(ctx)
    const world = ctx.rt.world
    if (!world.application.privilegedIntents.includes('GUILD_MEMBERS')) throw Errors.missingAccess()
    const query = ListMembersQuery.safeParse(Object.fromEntries(ctx.query))
    if (!query.success) throw zodFormError(query.error.issues, Object.fromEntries(ctx.query))
    const limit = query.data.limit
    const after = BigInt(query.data.after)
    const members = [...world.members.keys()]
      .filter((id) => BigInt(id) > after)
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
      .slice(0, limit)
      .map((id) => world.apiMember(id))
    return { status: 200, body: members }
  }),
  // Search Guild Members: username or nickname starting with `query` (docs resources/guild).
  route('GET', '/guilds/:guildId/members/search', 'bot', (ctx) => {
    requireGuild(ctx)
    const raw = Object.fromEntries(ctx.query)
    const query = SearchMembersQuery.safeParse(raw)
    if (!query.success) throw zodFormError(query.error.issues, raw)
    const world = ctx.rt.world
    const needle = query.data.query.toLowerCase()
    const found = [...world.members.values()]
      .filter((m) => {
        const names = [world.users.get(m.userId)?.username, m.nick]
        return names.some((n) => n?.toLowerCase().startsWith(needle))
      })
      .slice(0, query.data.limit)
      .map((m) => world.apiMember(m.userId))
    return { status: 200, body: found }
  }),
  route('GET', '/guilds/:guildId/members/:userId', 'bot', (ctx) => {
    requireGuild(ctx)
    const member = ctx.rt.world.apiMember(ctx.params.userId ?? '')
    if (!member) throw Errors.unknownMember()
    return { status: 200, body: member }
  }),
  route('PUT', '/guilds/:guildId/members/:userId', 'bot', (ctx) => {
    requireGuild(ctx)
    const world = ctx.rt.world
    const userId = ctx.params.userId ?? ''
    const body = parseBody(ctx, AddMemberBody)
    if (!world.users.has(userId)) throw Errors.unknownUser()
    requireBotPermission(ctx, P.CreateInstantInvite)
    const grant = ctx.rt.oauth.lookup(body.access_token)
    const valid =
      grant !== null &&
      grant.userId === userId &&
      grant.clientId === world.botUserId &&
      grant.scopes.includes('guilds.join')
    if (!valid) throw Errors.invalidOAuthToken()
    if (world.members.has(userId)) return { status: 204 }
    if (body.roles?.length) checkAssignableRoles(ctx, body.roles)
    if (body.nick) requireBotPermission(ctx, P.ManageNicknames)
    if (body.mute) requireBotPermission(ctx, P.MuteMembers)
    if (body.deaf) requireBotPermission(ctx, P.DeafenMembers)
    world.addMember(userId, {
      nick: body.nick ?? null,
      mute: body.mute ?? false,
      deaf: body.deaf ?? false,
    })
    if (body.roles?.length) world.members.get(userId)!.roles = [...body.roles]
    return { status: 201, body: world.apiMember(userId) }
  }),
  // Modify Current Member: the bot's own nickname, with CHANGE_NICKNAME.
  route('PATCH', '/guilds/:guildId/members/@me', 'bot', (ctx) => {
    requireGuild(ctx)
    const world = ctx.rt.world
    const body = parseBody(ctx, EditCurrentMemberBody, {})
    if (body.nick !== undefined) {
      requireBotPermission(ctx, P.ChangeNickname)
      world.updateMember(world.botUserId, { nick: body.nick || null })
    }
    return { status: 200, body: world.apiMember(world.botUserId) }
  }),
  route('PATCH', '/guilds/:guildId/members/:userId', 'bot', (ctx) => {
    requireGuild(ctx)
    const world = ctx.rt.world
    const userId = ctx.params.userId ?? ''
    const member = world.members.get(userId)
    if (!member) throw Errors.unknownMember()
    const body = parseBody(ctx, EditMemberBody, {})
    const voice = world.voice.get(userId)
    const bot = world.botUserId
    if (body.nick !== undefined) requireBotPermission(ctx, P.ManageNicknames)
    if (body.roles != null) checkAssignableRoles(ctx, body.roles)
    if (body.mute != null || body.deaf != null) {
      if (body.mute != null) requireBotPermission(ctx, P.MuteMembers)
      if (body.deaf != null) requireBotPermission(ctx, P.DeafenMembers)
      if (!voice && body.channel_id === undefined) throw Errors.notInVoice()
    }
    let move: { target: string | null } | null = null
    if (body.channel_id !== undefined) {
      if (!voice) throw Errors.notInVoice()
      const source = world.channelPermissions(bot, voice.channelId)
      if (!has(source, P.MoveMembers)) throw Errors.missingPermissions()
      if (body.channel_id !== null) {
        const target = world.channels.get(body.channel_id)
        if (!target) throw Errors.unknownChannel()
        if (target.type !== 2) throw Errors.wrongChannelType()
        // Moving someone into a channel they can't see is allowed; the bot itself needs CONNECT.
        if (!has(world.channelPermissions(bot, target.id), P.Connect))
          throw Errors.missingPermissions()
      }
      move = { target: body.channel_id }
    }
    const patch: Parameters<typeof world.updateMember>[1] = {}
    if (body.nick !== undefined) patch.nick = body.nick || null
    if (body.roles != null) patch.roles = [...body.roles]
    if (body.mute != null) patch.mute = body.mute
    if (body.deaf != null) patch.deaf = body.deaf
    const flags = {
      ...(body.mute != null ? { mute: body.mute } : {}),
      ...(body.deaf != null ? { deaf: body.deaf } : {}),
    }
    if (move) world.setVoice(userId, move.target, flags)
    else if (voice && (body.mute != null || body.deaf != null))
      world.setVoice(userId, voice.channelId, flags)
    world.updateMember(userId, patch)
    return { status: 200, body: world.apiMember(userId) }
  }),
  route('DELETE', '/guilds/:guildId/members/:userId', 'bot', (ctx) => {
    requireGuild(ctx)
    const userId = ctx.params.userId ?? ''
    if (!ctx.rt.world.members.has(userId)) throw Errors.unknownMember()
    requireBotPermission(ctx, P.KickMembers)
    ctx.rt.world.removeMember(userId)
    return { status: 204 }
  }),
  // Modify (Current) User Voice State works on stage channels only (docs resources/voice
  // "Caveats"); the emulator has none, so a voice channel gets 50024 once the rest is valid.
  route('PATCH', '/guilds/:guildId/voice-states/:userId', 'bot', (ctx) => {
    requireGuild(ctx)
    const world = ctx.rt.world
    const userId = ctx.params.userId === '@me' ? world.botUserId : (ctx.params.userId ?? '')
    const body = parseBody(ctx, EditVoiceStateBody, {})
    if (ctx.params.userId !== '@me') requireBotPermission(ctx, P.MuteMembers)
    const voice = world.voice.get(userId)
    if (!voice) throw Errors.unknownVoiceState()
    const channel = world.channels.get(body.channel_id ?? voice.channelId)
    if (!channel) throw Errors.unknownChannel()
    throw Errors.wrongChannelType()
  }),
  route('GET', '/guilds/:guildId/voice-states/:userId', 'bot', (ctx) => {
    requireGuild(ctx)
    const world = ctx.rt.world
    const userId = ctx.params.userId === '@me' ? world.botUserId : (ctx.params.userId ?? '')
    const voice = world.voice.get(userId)
    if (!voice) throw Errors.unknownVoiceState()
    if (!has(world.channelPermissions(world.botUserId, voice.channelId), P.Connect)) {
      throw Errors.missingAccess()
    }
    return { status: 200, body: world.apiVoiceState(userId) }
  }),
]
