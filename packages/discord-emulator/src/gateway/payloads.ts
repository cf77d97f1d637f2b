import {
  type ApplicationFlags,
  GatewayCloseCodes as C,
  type GatewayGuildCreateDispatchData,
  GatewayIntentBits,
  type GatewayReadyDispatchData,
} from 'discord-api-types/v10'
import { z } from 'zod'
import { applicationFlags } from '../world/application.ts'
import { isValidShard } from '../world/sharding.ts'
import type { World } from '../world/world.ts'

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

/**
 * Why an IDENTIFY is refused, as the close code Discord sends (docs topics/opcodes-and-status-codes
 * "Gateway Close Event Codes"): a wrong token 4004, unknown intent bits 4013, a privileged intent
 * the application has not enabled 4014, a shard outside [0, num_shards) 4010. Null when accepted.
 */
export function identifyRefusal(
  d: z.output<typeof IdentifySchema>,
  world: Pick<World, 'botToken' | 'application'>,
): { code: number; reason: string } | null {
  if (d.token.replace(/^Bot /, '') !== world.botToken) {
    return { code: C.AuthenticationFailed, reason: 'Authentication failed.' }
  }
  if (d.intents < 0 || (d.intents & ~VALID_INTENTS) !== 0) {
    return { code: C.InvalidIntents, reason: 'Invalid intent(s).' }
  }
  const enabled = world.application.privilegedIntents.reduce(
    (acc, name) => acc | PRIVILEGED_INTENTS[name],
    0,
  )
  const privileged = Object.values(PRIVILEGED_INTENTS).reduce((a, b) => a | b, 0)
  if ((d.intents & privileged & ~enabled) !== 0) {
    return { code: C.DisallowedIntents, reason: 'Disallowed intent(s).' }
  }
  if (!isValidShard(d.shard ?? [0, 1])) return { code: C.InvalidShard, reason: 'Invalid shard.' }
  return null
}

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

/** GUILD_CREATE as a session sees it: no voice states without GUILD_VOICE_STATES. */
export function forIntents(
  guild: GatewayGuildCreateDispatchData,
  intents: number,
): GatewayGuildCreateDispatchData {
  if ((intents & GatewayIntentBits.GuildVoiceStates) !== 0) return guild
  // An unavailable guild (`{id, unavailable: true}`) has no voice states to hide.
  if (!('voice_states' in guild)) return guild
  return { ...guild, voice_states: [] }
}

/**
 * READY for a new session: the bot user, the guilds of its shard (all unavailable at first, their
 * GUILD_CREATEs follow), the resume URL, the application, and `shard` "if sent when identifying"
 * (docs events/gateway-events "Ready").
 */
export function readyPayload(
  world: World,
  session: { id: string; shard: readonly [number, number] },
  identifiedWithShard: boolean,
  guilds: readonly { id: string }[],
  resumeUrl: string,
): GatewayReadyDispatchData {
  const flags = applicationFlags(world.application)
  return {
    v: 10,
    // READY's user object includes the (for a bot, null) email (docs events/gateway-events "Ready").
    user: { ...world.apiUser(world.botUserId)!, verified: true, mfa_enabled: false, email: null },
    guilds: guilds.map((g) => ({ id: g.id, unavailable: true as const })),
    session_id: session.id,
    resume_gateway_url: resumeUrl,
    ...(identifiedWithShard ? { shard: [session.shard[0], session.shard[1]] } : {}),
    application: {
      id: world.botUserId,
      flags: flags as ApplicationFlags,
      flags_new: String(flags),
    },
  } satisfies GatewayReadyDispatchData
}
