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
    if (!ctx.rt.world.botInGuild) throw Errors.unknownGuild()
    requireGuild(ctx)
    const body: Record<string, unknown> = { ...ctx.rt.world.apiGuild() }
    if (ctx.query.get('with_counts') === 'true') {
      body.approximate_member_count = ctx.rt.world.members.size
      body.approximate_presence_count = ctx.rt.world.voice.size
    }
    return { status: 200, body }
  }),
  route('GET', '/guilds/:guildId/channels', 'bot', (ctx) => {
    requireGuild(ctx)
    const world = ctx.rt.world
    const visible = world
      .apiChannels()
      .filter((c) => (world.channelPermissions(world.botUserId, c.id) & P.ViewChannel) !== 0n)
    return { status: 200, body: visible }
  }),
  route('POST', '/guilds/:guildId/channels', 'bot', (ctx) => {
    requireGuild(ctx)
    const world = ctx.rt.world
    const body = parseBody(ctx, CreateChannelBody)
    const type = body.type ?? 0
    const parentId = body.parent_id ?? null
    if (parentId !== null) {
      const parent = world.channels.get(parentId)
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
    requireBotPermission(ctx, P.ManageChannels, parentId ?? undefined)
    const overwrites = (body.permission_overwrites ?? []).map((o) => ({ ...o }))
    checkOverwritesGrantable(ctx, overwrites, parentId)
    const max = world.limits.channelsPerGuild
    if (world.channels.size >= max) throw Errors.maxChannels(max)
    if (parentId !== null && world.childCount(parentId) >= world.limits.channelsPerCategory) {
      const n = world.limits.channelsPerCategory
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
    const created = createChannel(world, {
      name: body.name,
      type,
      parentId: type === 4 ? null : parentId,
      position: body.position ?? world.channels.size,
      userLimit: type === 2 ? (body.user_limit ?? 0) : 0,
      bitrate: type === 2 ? (body.bitrate ?? 64000) : 0,
      overwrites,
    })
    return { status: 201, body: world.apiChannel(created.id) }
  }),
]
