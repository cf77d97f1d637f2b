import { PermissionFlagsBits as P } from 'discord-api-types/v10'
import { z } from 'zod'
import type { Guild } from '../world/guild.ts'
import { has } from '../world/permissions.ts'
import { Errors, formError, zodFormError } from './errors.ts'
import { parseBody, requireBotPermission, requireGuild, SnowflakeField } from './guards.ts'
import { type RouteDef, route } from './route.ts'

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

/** The bot can only assign roles below its highest one, never managed ones. */
function checkAssignableRoles(guild: Guild, roleIds: string[]): void {
  requireBotPermission(guild, P.ManageRoles)
  const top = guild.topRolePosition(guild.botUserId)
  roleIds.forEach((id, i) => {
    const role = guild.roles.get(id)
    if (!role || id === guild.id) {
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
    const guild = requireGuild(ctx)
    if (!ctx.rt.world.application.privilegedIntents.includes('GUILD_MEMBERS'))
      throw Errors.missingAccess()
    const query = ListMembersQuery.safeParse(Object.fromEntries(ctx.query))
    if (!query.success) throw zodFormError(query.error.issues, Object.fromEntries(ctx.query))
    const limit = query.data.limit
    const after = BigInt(query.data.after)
    const members = [...guild.members.keys()]
      .filter((id) => BigInt(id) > after)
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
      .slice(0, limit)
      .map((id) => guild.apiMember(id))
    return { status: 200, body: members }
  }),
  // Search Guild Members: username or nickname starting with `query` (docs resources/guild).
  route('GET', '/guilds/:guildId/members/search', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const raw = Object.fromEntries(ctx.query)
    const query = SearchMembersQuery.safeParse(raw)
    if (!query.success) throw zodFormError(query.error.issues, raw)
    const needle = query.data.query.toLowerCase()
    const found = [...guild.members.values()]
      .filter((m) => {
        const names = [ctx.rt.world.users.get(m.userId)?.username, m.nick]
        return names.some((n) => n?.toLowerCase().startsWith(needle))
      })
      .slice(0, query.data.limit)
      .map((m) => guild.apiMember(m.userId))
    return { status: 200, body: found }
  }),
  route('GET', '/guilds/:guildId/members/:userId', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const member = guild.apiMember(ctx.params.userId ?? '')
    if (!member) throw Errors.unknownMember()
    return { status: 200, body: member }
  }),
  route('PUT', '/guilds/:guildId/members/:userId', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const userId = ctx.params.userId ?? ''
    const body = parseBody(ctx, AddMemberBody)
    if (!ctx.rt.world.users.has(userId)) throw Errors.unknownUser()
    requireBotPermission(guild, P.CreateInstantInvite)
    const grant = ctx.rt.oauth.lookup(body.access_token)
    const valid =
      grant !== null &&
      grant.userId === userId &&
      grant.clientId === guild.botUserId &&
      grant.scopes.includes('guilds.join')
    if (!valid) throw Errors.invalidOAuthToken()
    if (guild.members.has(userId)) return { status: 204 }
    if (body.roles?.length) checkAssignableRoles(guild, body.roles)
    if (body.nick) requireBotPermission(guild, P.ManageNicknames)
    if (body.mute) requireBotPermission(guild, P.MuteMembers)
    if (body.deaf) requireBotPermission(guild, P.DeafenMembers)
    guild.addMember(userId, {
      nick: body.nick ?? null,
      mute: body.mute ?? false,
      deaf: body.deaf ?? false,
      roles: body.roles ?? [],
    })
    return { status: 201, body: guild.apiMember(userId) }
  }),
  // Modify Current Member: the bot's own nickname, with CHANGE_NICKNAME.
  route('PATCH', '/guilds/:guildId/members/@me', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const body = parseBody(ctx, EditCurrentMemberBody, {})
    if (body.nick !== undefined) {
      requireBotPermission(guild, P.ChangeNickname)
      guild.updateMember(guild.botUserId, { nick: body.nick || null })
    }
    return { status: 200, body: guild.apiMember(guild.botUserId) }
  }),
  route('PATCH', '/guilds/:guildId/members/:userId', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const userId = ctx.params.userId ?? ''
    const member = guild.members.get(userId)
    if (!member) throw Errors.unknownMember()
    const body = parseBody(ctx, EditMemberBody, {})
    const voice = guild.voice.get(userId)
    const bot = guild.botUserId
    if (body.nick !== undefined) requireBotPermission(guild, P.ManageNicknames)
    if (body.roles != null) checkAssignableRoles(guild, body.roles)
    if (body.mute != null || body.deaf != null) {
      if (body.mute != null) requireBotPermission(guild, P.MuteMembers)
      if (body.deaf != null) requireBotPermission(guild, P.DeafenMembers)
      if (!voice && body.channel_id === undefined) throw Errors.notInVoice()
    }
    let move: { target: string | null } | null = null
    if (body.channel_id !== undefined) {
      if (!voice) throw Errors.notInVoice()
      const source = guild.channelPermissions(bot, voice.channelId)
      if (!has(source, P.MoveMembers)) throw Errors.missingPermissions()
      if (body.channel_id !== null) {
        const target = guild.channels.get(body.channel_id)
        if (!target) throw Errors.unknownChannel()
        if (target.type !== 2) throw Errors.wrongChannelType()
        // Moving someone into a channel they can't see is allowed; the bot itself needs CONNECT.
        if (!has(guild.channelPermissions(bot, target.id), P.Connect))
          throw Errors.missingPermissions()
      }
      move = { target: body.channel_id }
    }
    const patch: Parameters<typeof guild.updateMember>[1] = {}
    if (body.nick !== undefined) patch.nick = body.nick || null
    if (body.roles != null) patch.roles = [...body.roles]
    if (body.mute != null) patch.mute = body.mute
    if (body.deaf != null) patch.deaf = body.deaf
    const flags = {
      ...(body.mute != null ? { mute: body.mute } : {}),
      ...(body.deaf != null ? { deaf: body.deaf } : {}),
    }
    if (move) guild.setVoice(userId, move.target, flags)
    else if (voice && (body.mute != null || body.deaf != null))
      guild.setVoice(userId, voice.channelId, flags)
    guild.updateMember(userId, patch)
    return { status: 200, body: guild.apiMember(userId) }
  }),
  route('DELETE', '/guilds/:guildId/members/:userId', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const userId = ctx.params.userId ?? ''
    if (!guild.members.has(userId)) throw Errors.unknownMember()
    requireBotPermission(guild, P.KickMembers)
    guild.removeMember(userId)
    return { status: 204 }
  }),
  // Modify (Current) User Voice State works on stage channels only (docs resources/voice
  // "Caveats"); the emulator has none, so a voice channel gets 50024 once the rest is valid.
  route('PATCH', '/guilds/:guildId/voice-states/:userId', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const userId = ctx.params.userId === '@me' ? guild.botUserId : (ctx.params.userId ?? '')
    const body = parseBody(ctx, EditVoiceStateBody, {})
    if (ctx.params.userId !== '@me') requireBotPermission(guild, P.MuteMembers)
    const voice = guild.voice.get(userId)
    if (!voice) throw Errors.unknownVoiceState()
    const channel = guild.channels.get(body.channel_id ?? voice.channelId)
    if (!channel) throw Errors.unknownChannel()
    throw Errors.wrongChannelType()
  }),
  route('GET', '/guilds/:guildId/voice-states/:userId', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const userId = ctx.params.userId === '@me' ? guild.botUserId : (ctx.params.userId ?? '')
    const voice = guild.voice.get(userId)
    if (!voice) throw Errors.unknownVoiceState()
    if (!has(guild.channelPermissions(guild.botUserId, voice.channelId), P.Connect)) {
      throw Errors.missingAccess()
    }
    return { status: 200, body: guild.apiVoiceState(userId) }
  }),
]
