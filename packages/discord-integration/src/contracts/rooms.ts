import { z } from 'zod'
import { EpochMsSchema, RoomIdSchema, SnowflakeSchema } from './common'

/** At most four players per room, as the product promises. */
export const MAX_PLAYERS = 4
/** Invite links are valid for 24 hours. */
export const INVITE_TTL_MS = 24 * 60 * 60 * 1000
/** A room with nobody in voice and nobody viewing it for this long is closed. */
export const ROOM_IDLE_MS = 60 * 60 * 1000
/** Players are warned this long before an idle room is closed. */
export const ROOM_CLOSING_WARNING_MS = 30 * 1000

/** Longest room name, in UTF-16 code units after normalisation. */
export const MAX_ROOM_NAME_LENGTH = 100

/** Whitespace, and letters that render as blank space (Hangul fillers, the braille blank). */
const BLANKS = /[\s\u115F\u1160\u3164\uFFA0\u2800]+/gu
/** Control and format characters (zero-width spaces and joiners, bidi marks) and lone surrogates. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/gu

/**
 * A room name as it is stored and shown: NFC, every run of whitespace (or blank-looking letters)
 * one space, control and format characters removed, trimmed. The browser applies it before
 * sending and the server's schema applies it again, so both agree on the name; what is left
 * empty was invisible and is rejected.
 */
export function normaliseRoomName(raw: string): string {
  return raw
    .normalize('NFC')
    .replace(BLANKS, ' ')
    .replace(INVISIBLE, '')
    .replace(/ {2,}/g, ' ')
    .trim()
}

export const RoomNameSchema = z
  .string()
  .transform(normaliseRoomName)
  .pipe(
    z
      .string()
      .min(1, 'A room name needs at least one visible character.')
      .max(MAX_ROOM_NAME_LENGTH),
  )

export const PlayerSchema = z.object({
  userId: SnowflakeSchema,
  username: z.string().min(1).max(32),
  globalName: z.string().max(32).nullable(),
  avatar: z.string().max(64).nullable(),
  joinedAt: EpochMsSchema,
})
export type Player = z.infer<typeof PlayerSchema>

export const RoomStatusSchema = z.enum(['open', 'closing', 'closed'])
export type RoomStatus = z.infer<typeof RoomStatusSchema>

/** What a room's players see of it. */
export const RoomViewSchema = z.object({
  id: RoomIdSchema,
  name: RoomNameSchema,
  guildId: SnowflakeSchema,
  channelId: SnowflakeSchema,
  ownerId: SnowflakeSchema,
  players: z.array(PlayerSchema).max(MAX_PLAYERS),
  maxPlayers: z.literal(MAX_PLAYERS),
  status: RoomStatusSchema,
  createdAt: EpochMsSchema,
  /** Set while the room is in its closing warning. */
  closesAt: EpochMsSchema.nullable(),
  /** `{DISCORD_WEB_URL}/channels/{guild}/{channel}`: opens the voice channel in Discord. */
  voiceJoinUrl: z.string().url(),
  invite: z.object({ url: z.string().url(), expiresAt: EpochMsSchema }).nullable(),
})
export type RoomView = z.infer<typeof RoomViewSchema>

// Server-function inputs. The caller's identity always comes from the session, never from here.
export const CreateRoomInputSchema = z.object({ name: RoomNameSchema })
export const RoomRefInputSchema = z.object({ roomId: RoomIdSchema })
export const JoinRoomInputSchema = z.object({
  roomId: RoomIdSchema,
  token: z.string().min(10).max(2048),
})
export const KickPlayerInputSchema = z.object({ roomId: RoomIdSchema, userId: SnowflakeSchema })

export const ConnectVoiceResultSchema = z.object({
  /** moved: we moved you; already_in_channel: nothing to do; not_in_voice: follow joinUrl. */
  status: z.enum(['moved', 'already_in_channel', 'not_in_voice']),
  joinUrl: z.string().url(),
})
export type ConnectVoiceResult = z.infer<typeof ConnectVoiceResultSchema>
