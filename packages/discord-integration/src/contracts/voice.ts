import { z } from 'zod'
import { EpochMsSchema, PROTOCOL_VERSION, SnowflakeSchema } from './common'
import { ProfileSchema } from './rooms'

/**
 * One user's presence in a voice channel, as the gateway feed knows it.
 * Display data comes from the voice state's `member.user` (never `data.user`).
 * @see https://discord.com/developers/docs/resources/voice#voice-state-object
 */
export const VoiceMemberSchema = z.object({
  userId: SnowflakeSchema,
  channelId: SnowflakeSchema,
  username: z.string().min(1).max(32),
  globalName: z.string().max(32).nullable(),
  avatar: z.string().max(64).nullable(),
  mute: z.boolean(),
  deaf: z.boolean(),
  selfMute: z.boolean(),
  selfDeaf: z.boolean(),
  selfVideo: z.boolean(),
  selfStream: z.boolean(),
  suppress: z.boolean(),
})
export type VoiceMember = z.infer<typeof VoiceMemberSchema>

/** The flags of a voice state that produce `voice.updated` when they change. */
export const VOICE_FLAGS = [
  'mute',
  'deaf',
  'selfMute',
  'selfDeaf',
  'selfVideo',
  'selfStream',
  'suppress',
] as const satisfies readonly (keyof VoiceMember)[]
export type VoiceFlag = (typeof VOICE_FLAGS)[number]

/**
 * Why a `voice.left` happened. `resync` = found missing when a fresh snapshot was reconciled;
 * `guild_removed` = the bot was removed from the guild (GUILD_DELETE without `unavailable`).
 */
export const VoiceLeftReasonSchema = z.enum([
  'left',
  'moved',
  'member_removed',
  'channel_deleted',
  'resync',
  'guild_removed',
])
export type VoiceLeftReason = z.infer<typeof VoiceLeftReasonSchema>

const FeedEventBase = z.object({
  v: z.literal(PROTOCOL_VERSION),
  guildId: SnowflakeSchema,
  channelId: SnowflakeSchema,
  userId: SnowflakeSchema,
  /** Monotonic sequence number of the gateway feed that produced the event (gap-free per feed epoch). */
  feedSeq: z.number().int().nonnegative(),
  /** When the gateway process received the Discord dispatch that caused the event (epoch ms). */
  receivedAt: EpochMsSchema,
})

export const VoiceJoinedEventSchema = FeedEventBase.extend({
  type: z.literal('voice.joined'),
  member: VoiceMemberSchema,
})
export const VoiceLeftEventSchema = FeedEventBase.extend({
  type: z.literal('voice.left'),
  reason: VoiceLeftReasonSchema,
})
export const VoiceUpdatedEventSchema = FeedEventBase.extend({
  type: z.literal('voice.updated'),
  member: VoiceMemberSchema,
  changed: z.array(z.enum(VOICE_FLAGS)).min(1),
})

/**
 * A user's display data (username, global name, avatar) changed, as Discord reported it in
 * GUILD_MEMBER_UPDATE (GUILD_MEMBERS intent), a voice state's `member.user`, or a fresh
 * GUILD_CREATE. `channelId` is the voice channel the user is in now (their member there carries
 * the new data from now on), or null when they are not in voice. Only changes of a profile the
 * feed already knew are reported, not first sightings.
 */
export const ProfileUpdatedEventSchema = FeedEventBase.extend({
  type: z.literal('profile.updated'),
  channelId: SnowflakeSchema.nullable(),
  profile: ProfileSchema,
})

/** A domain event of the voice feed. Discord's raw dispatches never leave the gateway package. */
export const VoiceEventSchema = z.discriminatedUnion('type', [
  VoiceJoinedEventSchema,
  VoiceLeftEventSchema,
  VoiceUpdatedEventSchema,
  ProfileUpdatedEventSchema,
])
export type VoiceJoinedEvent = z.infer<typeof VoiceJoinedEventSchema>
export type VoiceLeftEvent = z.infer<typeof VoiceLeftEventSchema>
export type VoiceUpdatedEvent = z.infer<typeof VoiceUpdatedEventSchema>
export type ProfileUpdatedEvent = z.infer<typeof ProfileUpdatedEventSchema>
export type VoiceEvent = z.infer<typeof VoiceEventSchema>
