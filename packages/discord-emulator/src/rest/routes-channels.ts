import { PermissionFlagsBits as P } from 'discord-api-types/v10'
import { z } from 'zod'
import {
  createInvite,
  deleteChannel,
  deleteOverwrite,
  putOverwrite,
  updateChannel,
} from '../world/channel-ops.ts'
import type { Guild } from '../world/guild.ts'
import { toApiInvite } from '../world/serialize.ts'
import { Errors, formError } from './errors.ts'
import {
  BitfieldField,
  checkOverwritesGrantable,
  OverwriteField,
  parseBody,
  requireBotPermission,
  requireChannel,
  SnowflakeField,
} from './guards.ts'
import { type RouteDef, route } from './route.ts'

const EditChannelBody = z.object({
  name: z
    .string()
    .min(1, 'BASE_TYPE_BAD_LENGTH|Must be between 1 and 100 in length.')
    .max(100, 'BASE_TYPE_BAD_LENGTH|Must be between 1 and 100 in length.')
    .optional(),
  position: z.number().int().min(0).nullish(),
  bitrate: z.number().int().min(8000).max(96000).nullish(),
  user_limit: z.number().int().min(0).max(99).nullish(),
  parent_id: SnowflakeField.nullish(),
  permission_overwrites: z.array(OverwriteField).max(100).nullish(),
})

const PutOverwriteBody = z.object({
  type: z.union([z.literal(0), z.literal(1)], {
    message: 'BASE_TYPE_CHOICES|Value must be one of {0, 1}.',
  }),
  allow: BitfieldField,
  deny: BitfieldField,
})

const CreateInviteBody = z.object({
  max_age: z.number().int().min(0).max(604800).nullish(),
  max_uses: z.number().int().min(0).max(100).nullish(),
  temporary: z.boolean().nullish(),
  unique: z.boolean().nullish(),
})

/** Channel, overwrite and invite routes. */
export const channelRoutes: RouteDef[] = [
  route('GET', '/channels/:channelId', 'bot', (ctx) => {
    const { guild, channel } = requireChannel(ctx)
    return { status: 200, body: guild.apiChannel(channel.id) }
  }),
  route('PATCH', '/channels/:channelId', 'bot', (ctx) => {
    const { guild, channel } = requireChannel(ctx)
    requireBotPermission(guild, P.ManageChannels, channel.id)
    const body = parseBody(ctx, EditChannelBody, {})
    const patch: Parameters<typeof updateChannel>[2] = {}
    if (body.name !== undefined) patch.name = body.name
    if (body.position != null) patch.position = body.position
    if (channel.type === 2 && body.user_limit != null) patch.userLimit = body.user_limit
    if (channel.type === 2 && body.bitrate != null) patch.bitrate = body.bitrate
    if (body.parent_id !== undefined && channel.type !== 4) {
      const parent = body.parent_id === null ? null : guild.channels.get(body.parent_id)
      if (parent !== null && parent?.type !== 4) {
        throw formError([
          {
            path: ['parent_id'],
            error: { code: 'CHANNEL_PARENT_INVALID', message: 'Category does not exist.' },
          },
        ])
      }
      patch.parentId = parent?.id ?? null
    }
    if (body.permission_overwrites != null) {
      requireBotPermission(guild, P.ManageRoles, channel.id)
      checkOverwritesGrantable(guild, body.permission_overwrites, channel.id)
      patch.overwrites = body.permission_overwrites
    }
    updateChannel(guild, channel.id, patch)
    return { status: 200, body: guild.apiChannel(channel.id) }
  }),
  route('DELETE', '/channels/:channelId', 'bot', (ctx) => {
    const { guild, channel } = requireChannel(ctx)
    requireBotPermission(guild, P.ManageChannels, channel.id)
    return { status: 200, body: deleteChannel(guild, channel.id) }
  }),
  route('PUT', '/channels/:channelId/permissions/:overwriteId', 'bot', (ctx) => {
    const { guild, channel } = requireChannel(ctx)
    requireBotPermission(guild, P.ManageRoles, channel.id)
    const body = parseBody(ctx, PutOverwriteBody)
    const id = ctx.params.overwriteId ?? ''
    if (body.type === 0 && !guild.roles.has(id)) throw Errors.unknownRole()
    if (body.type === 1 && !ctx.rt.world.users.has(id)) throw Errors.unknownUser()
    checkOverwritesGrantable(guild, [body], channel.id)
    putOverwrite(guild, channel.id, { id, type: body.type, allow: body.allow, deny: body.deny })
    return { status: 204 }
  }),
  route('DELETE', '/channels/:channelId/permissions/:overwriteId', 'bot', (ctx) => {
    const { guild, channel } = requireChannel(ctx)
    requireBotPermission(guild, P.ManageRoles, channel.id)
    deleteOverwrite(guild, channel.id, ctx.params.overwriteId ?? '')
    return { status: 204 }
  }),
  // Get Channel Invites: MANAGE_CHANNELS, invites with their metadata (docs resources/channel).
  route('GET', '/channels/:channelId/invites', 'bot', (ctx) => {
    const { guild, channel } = requireChannel(ctx)
    requireBotPermission(guild, P.ManageChannels, channel.id)
    const codes = [...guild.invites.values()].filter((i) => i.channelId === channel.id)
    return { status: 200, body: codes.map((i) => inviteBody(guild, i.code)) }
  }),
  route('POST', '/channels/:channelId/invites', 'bot', (ctx) => {
    const { guild, channel } = requireChannel(ctx)
    if (channel.type === 4) throw Errors.wrongChannelType()
    requireBotPermission(guild, P.CreateInstantInvite, channel.id)
    const body = parseBody(ctx, CreateInviteBody)
    const invite = createInvite(
      guild,
      {
        channelId: channel.id,
        inviterId: guild.botUserId,
        maxAge: body.max_age ?? 86400,
        maxUses: body.max_uses ?? 0,
        temporary: body.temporary ?? false,
      },
      body.unique ?? false,
    )
    return { status: 200, body: inviteBody(guild, invite.code) }
  }),
  route('GET', '/invites/:code', 'none', (ctx) => {
    const code = ctx.params.code ?? ''
    const guild = [...ctx.rt.world.guilds.values()].find((g) => g.invites.has(code))
    if (!guild) throw Errors.unknownInvite()
    return { status: 200, body: inviteBody(guild, code) }
  }),
]

function inviteBody(guild: Guild, code: string) {
  const invite = guild.invites.get(code)
  const channel = invite ? guild.channels.get(invite.channelId) : undefined
  const inviter = invite ? guild.apiUser(invite.inviterId) : null
  if (!invite || !channel || !inviter) throw Errors.unknownInvite()
  return toApiInvite(invite, { id: guild.id, name: guild.name }, channel, inviter)
}
