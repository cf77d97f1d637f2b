import { z } from 'zod'
import { EpochMsSchema, RoomIdSchema, SnowflakeSchema } from './common'

/** At most four players per room, as the product promises. */
export const MAX_PLAYERS = 4
/** At most eight spectators per room (they take no seat). */
export const MAX_SPECTATORS = 8
/** Invite links, room codes and watch links are valid for 24 hours. */
export const INVITE_TTL_MS = 24 * 60 * 60 * 1000
/**
 * A player whose page and voice both went away keeps the seat this long (unless configured
 * otherwise: SEAT_GRACE_SECONDS). Others see "dropped, seat held for m:ss".
 */
export const SEAT_GRACE_MS = 10 * 60 * 1000
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

/** A user's Discord display data, as Discord reports it (`member.user`). */
export const ProfileSchema = z.object({
  username: z.string().min(1).max(32),
  globalName: z.string().max(32).nullable(),
  avatar: z.string().max(64).nullable(),
})
export type Profile = z.infer<typeof ProfileSchema>

export const PlayerSchema = ProfileSchema.extend({
  userId: SnowflakeSchema,
  joinedAt: EpochMsSchema,
  /**
   * Set while the player is dropped (neither the room page open nor in its voice channel): the
   * seat is theirs until then (epoch ms). Absent while they are here.
   */
  heldUntil: EpochMsSchema.optional(),
})
export type Player = z.infer<typeof PlayerSchema>

/** Someone watching the room: no seat, listen-only in voice. */
export const SpectatorSchema = ProfileSchema.extend({
  userId: SnowflakeSchema,
  joinedAt: EpochMsSchema,
})
export type Spectator = z.infer<typeof SpectatorSchema>

/**
 * Room codes: six characters from an alphabet without look-alikes (no 0/O, 1/I/L, U/V), typed
 * on the home page. Shown and stored upper case; typed in any case, with spaces or a dash.
 */
export const ROOM_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTWXYZ23456789'
export const ROOM_CODE_LENGTH = 6

/** A typed room code as it is checked: upper case, without spaces and dashes. */
export function normaliseRoomCode(raw: string): string {
  return raw.toUpperCase().replace(/[\s-]+/g, '')
}

export const RoomCodeSchema = z
  .string()
  .max(32)
  .transform(normaliseRoomCode)
  .pipe(z.string().regex(new RegExp(`^[${ROOM_CODE_ALPHABET}]{${ROOM_CODE_LENGTH}}$`)))

export const RoomStatusSchema = z.enum(['open', 'closing', 'closed'])
export type RoomStatus = z.infer<typeof RoomStatusSchema>

/** A signed link with its expiry. */
export const SignedLinkSchema = z.object({ url: z.string().url(), expiresAt: EpochMsSchema })

/**
 * What a room's players and spectators see of it. The invite link, the room code and the watch
 * link are the players' only: a spectator's view has them null.
 */
export const RoomViewSchema = z.object({
  id: RoomIdSchema,
  name: RoomNameSchema,
  guildId: SnowflakeSchema,
  channelId: SnowflakeSchema,
  ownerId: SnowflakeSchema,
  players: z.array(PlayerSchema).max(MAX_PLAYERS),
  maxPlayers: z.literal(MAX_PLAYERS),
  spectators: z.array(SpectatorSchema).max(MAX_SPECTATORS),
  maxSpectators: z.literal(MAX_SPECTATORS),
  /** No new players by invite link or code while locked (the watch link still works). */
  locked: z.boolean(),
  status: RoomStatusSchema,
  createdAt: EpochMsSchema,
  /** Set while the room is in its closing warning. */
  closesAt: EpochMsSchema.nullable(),
  /** `{DISCORD_WEB_URL}/channels/{guild}/{channel}`: opens the voice channel in Discord's web client. */
  voiceJoinUrl: z.string().url(),
  /** `discord://-/channels/{guild}/{channel}`: opens it in the installed Discord app. */
  voiceAppUrl: z.string().startsWith('discord://'),
  invite: SignedLinkSchema.nullable(),
  /** The room code (valid as long as the invite link); null for spectators. */
  code: z.string().nullable(),
  /** The watch link for spectators; null when there is none, and for spectators. */
  watch: SignedLinkSchema.nullable(),
  /** The links' revision (RoomState.linksRev): a page fetches them again when it changes. */
  linksRev: z.number().int().nonnegative(),
})
export type RoomView = z.infer<typeof RoomViewSchema>

/** The caller's part in a room. */
export const RoomRoleSchema = z.enum(['host', 'player', 'spectator'])
export type RoomRole = z.infer<typeof RoomRoleSchema>

/** The links only players see (getRoomLinks): the invite link and code, and the watch link. */
export const RoomLinksSchema = z.object({
  invite: SignedLinkSchema,
  code: z.string(),
  watch: SignedLinkSchema.nullable(),
})
export type RoomLinks = z.infer<typeof RoomLinksSchema>

// Server-function inputs. The caller's identity always comes from the session, never from here.
/**
 * `guildId`: the community server picked in the "Server" select (ROOMS_COMMUNITY=1); without
 * it the room goes to the deployment's own servers (DISCORD_GUILD_ID / the pool).
 */
export const CreateRoomInputSchema = z.object({
  name: RoomNameSchema,
  guildId: SnowflakeSchema.optional(),
})
export const RoomRefInputSchema = z.object({ roomId: RoomIdSchema })
export const JoinRoomInputSchema = z.object({
  roomId: RoomIdSchema,
  token: z.string().min(10).max(2048),
})
export const KickPlayerInputSchema = z.object({ roomId: RoomIdSchema, userId: SnowflakeSchema })
/** A host's action on one member of a room (transfer host, free a seat, remove a spectator). */
export const RoomMemberInputSchema = KickPlayerInputSchema
export const SetLockedInputSchema = z.object({ roomId: RoomIdSchema, locked: z.boolean() })
export const JoinByCodeInputSchema = z.object({ code: RoomCodeSchema })

export const ConnectVoiceResultSchema = z.object({
  /** moved: we moved you; already_in_channel: nothing to do; not_in_voice: follow joinUrl. */
  status: z.enum(['moved', 'already_in_channel', 'not_in_voice']),
  joinUrl: z.string().url(),
})
export type ConnectVoiceResult = z.infer<typeof ConnectVoiceResultSchema>
