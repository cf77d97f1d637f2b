import { PermissionFlagsBits as P } from 'discord-api-types/v10'
import { z } from 'zod'
import { createChannel } from '../world/channel-ops.ts'
import { Errors, formError } from './errors.ts'
import {
  checkOverwritesGrantable,
  OverwriteField,
  parseBody,
  requireBotPermission,
  requireGuild,
  SnowflakeField,
} from './guards.ts'
import { type RouteDef, route } from './route.ts'

const CreateChannelBody = z.object({
  name: z
    .string()
    .min(1, 'BASE_TYPE_BAD_LENGTH|Must be between 1 and 100 in length.')
    .max(100, 'BASE_TYPE_BAD_LENGTH|Must be between 1 and 100 in length.'),
  type: z
    .union([z.literal(0), z.literal(2), z.literal(4)], {
      message: 'BASE_TYPE_CHOICES|Value must be one of {0, 2, 4}.',
    })
    .nullish(),
  topic: z.string().max(1024).nullish(),
  bitrate: z.number().int().min(8000).max(96000).nullish(),
  user_limit: z.number().int().min(0).max(99).nullish(),
  parent_id: SnowflakeField.nullish(),
  position: z.number().int().min(0).nullish(),
  permission_overwrites: z.array(OverwriteField).max(100).nullish(),
  nsfw: z.boolean().nullish(),
})

/** Guild and guild-channel routes. */
export const guildRoutes: RouteDef[] = [
  route('GET', '/guilds/:guildId', 'bot', (ctx) => {
    // A guild the bot is not in answers Unknown Guild here, like one that does not exist
    // (discord/discord-api-docs#5840); its sub-resources answer Missing Access (requireGuild).
    if (!ctx.rt.world.guild(ctx.params.guildId ?? '')?.botInGuild) throw Errors.unknownGuild()
    const guild = requireGuild(ctx)
    const body: Record<string, unknown> = { ...guild.apiGuild() }
    if (ctx.query.get('with_counts') === 'true') {
      body.approximate_member_count = guild.members.size
      body.approximate_presence_count = guild.voice.size
    }
    return { status: 200, body }
  }),
  route('GET', '/guilds/:guildId/channels', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const visible = guild
      .apiChannels()
      .filter((c) => (guild.channelPermissions(guild.botUserId, c.id) & P.ViewChannel) !== 0n)
    return { status: 200, body: visible }
  }),
  route('POST', '/guilds/:guildId/channels', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const limits = ctx.rt.world.limits
    const body = parseBody(ctx, CreateChannelBody)
    const type = body.type ?? 0
    const parentId = body.parent_id ?? null
    if (parentId !== null) {
      const parent = guild.channels.get(parentId)
      if (type === 4) {
        throw formError([
          {
            path: ['parent_id'],
            error: {
              code: 'CHANNEL_PARENT_INVALID_TYPE',
              message: 'Categories cannot have a parent.',
            },
          },
        ])
      }
      if (parent?.type !== 4) {
        throw formError([
          {
            path: ['parent_id'],
            error: { code: 'CHANNEL_PARENT_INVALID', message: 'Category does not exist.' },
          },
        ])
      }
    }
    requireBotPermission(guild, P.ManageChannels, parentId ?? undefined)
    const overwrites = (body.permission_overwrites ?? []).map((o) => ({ ...o }))
    checkOverwritesGrantable(guild, overwrites, parentId)
    const max = limits.channelsPerGuild
    if (guild.channels.size >= max) throw Errors.maxChannels(max)
    if (parentId !== null && guild.childCount(parentId) >= limits.channelsPerCategory) {
      const n = limits.channelsPerCategory
      throw formError([
        {
          path: ['parent_id'],
          error: {
            code: 'CHANNEL_PARENT_MAX_CHANNELS',
            message: `Maximum number of channels in category reached (${n})`,
          },
        },
      ])
    }
    const created = createChannel(guild, {
      name: body.name,
      type,
      parentId: type === 4 ? null : parentId,
      position: body.position ?? guild.channels.size,
      userLimit: type === 2 ? (body.user_limit ?? 0) : 0,
      bitrate: type === 2 ? (body.bitrate ?? 64000) : 0,
      overwrites,
    })
    return { status: 201, body: guild.apiChannel(created.id) }
  }),
]
