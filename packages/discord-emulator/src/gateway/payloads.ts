import { GatewayIntentBits } from 'discord-api-types/v10'
import { z } from 'zod'

/** Every intent bit Discord defines. */
export const VALID_INTENTS = Object.values(GatewayIntentBits)
  .filter((v): v is number => typeof v === 'number')
  .reduce((a, b) => a | b, 0)

/** Privileged intents by portal name. */
export const PRIVILEGED_INTENTS = {
  GUILD_MEMBERS: GatewayIntentBits.GuildMembers,
  GUILD_PRESENCES: GatewayIntentBits.GuildPresences,
  MESSAGE_CONTENT: GatewayIntentBits.MessageContent,
} as const

/** Client frame envelope. */
export const FrameSchema = z.object({ op: z.number().int(), d: z.unknown() })

/**
 * IDENTIFY connection properties: `os`, `browser`, `device`, or the deprecated `$`-prefixed names,
 * which "currently still work" (docs events/gateway-events "Identify Connection Properties").
 */
const ConnectionProperties = z
  .record(z.string(), z.unknown())
  .refine(
    (p) =>
      ['os', 'browser', 'device'].every(
        (k) => typeof p[k] === 'string' || typeof p[`$${k}`] === 'string',
      ),
    'os, browser and device are required',
  )

/** Op 2 IDENTIFY data. */
export const IdentifySchema = z.object({
  token: z.string(),
  properties: ConnectionProperties,
  intents: z.number().int(),
  compress: z.boolean().optional(),
  large_threshold: z.number().int().min(50).max(250).optional(),
  shard: z.tuple([z.number().int(), z.number().int()]).optional(),
  presence: z.unknown().optional(),
})

/** Op 6 RESUME data. */
export const ResumeSchema = z.object({
  token: z.string(),
  session_id: z.string(),
  seq: z.number().int().nullable(),
})

/** Op 4 VOICE_STATE_UPDATE data (the bot's own voice connection). */
export const VoiceUpdateSchema = z.object({
  guild_id: z.string(),
  channel_id: z.string().nullable(),
  self_mute: z.boolean(),
  self_deaf: z.boolean(),
})

/** Op 8 REQUEST_GUILD_MEMBERS data. */
export const RequestMembersSchema = z
  .object({
    guild_id: z.string(),
    query: z.string().optional(),
    limit: z.number().int().min(0).optional(),
    presences: z.boolean().optional(),
    user_ids: z.union([z.string(), z.array(z.string()).max(100)]).optional(),
    nonce: z.string().max(32).optional(),
  })
  .refine((d) => d.query !== undefined || d.user_ids !== undefined, 'query or user_ids required')

/** Op 43 REQUEST_CHANNEL_INFO data. */
export const RequestChannelInfoSchema = z.object({
  guild_id: z.string(),
  fields: z.array(z.enum(['status', 'voice_start_time'])),
})
