import {
  PROTOCOL_VERSION,
  SnowflakeSchema,
  VoiceEventSchema,
  VoiceMemberSchema,
} from '@repo/discord-integration/contracts'
import { z } from 'zod'

/** A full picture of the guild's voice state as of `feedSeq`. */
export const HubSnapshotMessageSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  kind: z.literal('snapshot'),
  guildId: SnowflakeSchema,
  feedSeq: z.number().int().nonnegative(),
  members: z.array(VoiceMemberSchema).max(10_000),
})

/** Consecutive domain events (ascending feedSeq). */
export const HubEventsMessageSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  kind: z.literal('events'),
  guildId: SnowflakeSchema,
  events: z.array(VoiceEventSchema).min(1).max(500),
})

/** The body of a hub POST. */
export const HubMessageSchema = z.discriminatedUnion('kind', [
  HubSnapshotMessageSchema,
  HubEventsMessageSchema,
])
export type HubMessage = z.infer<typeof HubMessageSchema>

/** The 409 body: the receiver's position, so the sender knows a snapshot is needed. */
export const HubGapBodySchema = z.object({
  error: z.literal('gap'),
  feedSeq: z.number().int().nonnegative(),
})

/** Largest accepted body (bytes). */
export const HUB_MAX_BODY_BYTES = 2 * 1024 * 1024
