import { z } from 'zod'
import { EpochMsSchema, PROTOCOL_VERSION, RoomIdSchema, SnowflakeSchema } from './common'
import {
  MAX_PLAYERS,
  PlayerSchema,
  ProfileSchema,
  RoomNameSchema,
  RoomStatusSchema,
  SpectatorSchema,
} from './rooms'
import { VOICE_FLAGS, VoiceLeftReasonSchema, VoiceMemberSchema } from './voice'

/**
 * The browser <-> server WebSocket protocol at `/api/ws` (version 1).
 * Documented in specs/017-discord-gateway-real/contracts/websocket-protocol.md.
 *
 * Version rule: v1 grows by compatible additions only, and every addition since the first
 * release is one of them:
 * - a new optional field on an existing frame (a client that does not know it ignores it: the
 *   schemas strip unknown keys), and a field that is left out when it has its default value;
 * - a new server frame outside the numbered room stream (`seq: 0`, like `error` and `pong`),
 *   which an older client drops without touching its stream position;
 * - a new client frame type or optional client field (an older server answers BAD_FRAME and
 *   keeps the socket).
 * A new type of numbered room frame is not compatible (an older client would drop it, then take
 * every later frame for a gap and resubscribe forever): it needs PROTOCOL_VERSION 2.
 */

/** Identifies one life of a room stream; it changes whenever the stream's history was lost. */
export const StreamEpochSchema = z.string().min(1).max(64)

export { MAX_CLIENT_FRAME_BYTES } from './limits'

// ---------------------------------------------------------------------------
// Browser -> server
// ---------------------------------------------------------------------------

export const SubscribeFrameSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('subscribe'),
  room: RoomIdSchema,
  /** The last room sequence number this client applied; the server replays what follows. */
  since: z.number().int().nonnegative().optional(),
  /**
   * The stream epoch `since` belongs to (from `subscribed`/`presence.snapshot`). When the server's
   * epoch differs (history lost, e.g. a restart), it answers with a snapshot instead of a replay.
   */
  epoch: StreamEpochSchema.optional(),
  /**
   * `page` (the default): the room page is open, which counts as "here" (room.viewers) and keeps
   * a dropped seat; `summary`: the same stream for a list of rooms (the home page), which does not.
   */
  mode: z.enum(['page', 'summary']).optional(),
})
export const UnsubscribeFrameSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('unsubscribe'),
  room: RoomIdSchema,
})
export const PingFrameSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('ping'),
  id: z.number().int().nonnegative().optional(),
})
/** Follow the caller's own rooms (hosted or seated): `rooms.list` now and on every change. */
export const RoomsFollowFrameSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('rooms.follow'),
})
export const RoomsUnfollowFrameSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('rooms.unfollow'),
})
export const ClientFrameSchema = z.discriminatedUnion('type', [
  SubscribeFrameSchema,
  UnsubscribeFrameSchema,
  PingFrameSchema,
  RoomsFollowFrameSchema,
  RoomsUnfollowFrameSchema,
])
export type ClientFrame = z.infer<typeof ClientFrameSchema>

// ---------------------------------------------------------------------------
// Server -> browser. Every frame carries v, type, room, seq and ts.
// `seq` is the room stream's sequence number (0 on frames outside a room stream).
// ---------------------------------------------------------------------------

const RoomFrame = z.object({
  v: z.literal(PROTOCOL_VERSION),
  room: RoomIdSchema,
  seq: z.number().int().nonnegative(),
  /** Server time when the frame was produced (epoch ms). */
  ts: EpochMsSchema,
})

/**
 * What every subscriber of a room knows of it (room.updated, snapshots). Never the invite link,
 * the room code or the watch link: spectators receive this too. The fields added after the first
 * release are left out while they have their default (no spectators, unlocked, links revision 0).
 */
export const RoomStateSchema = z.object({
  ownerId: SnowflakeSchema,
  players: z.array(PlayerSchema),
  status: RoomStatusSchema,
  closesAt: EpochMsSchema.nullable(),
  /** Default: none. */
  spectators: z.array(SpectatorSchema).optional(),
  /** Default: false. */
  locked: z.boolean().optional(),
  /**
   * Bumped whenever the players' links change (invite or code rotated or renewed, watch link
   * made, rotated or revoked): a player's page fetches them again (getRoomLinks). Default: 0.
   */
  linksRev: z.number().int().nonnegative().optional(),
})
export type RoomState = z.infer<typeof RoomStateSchema>

/** Users with the room's page open (on any node), players and spectators, sorted. */
const ViewersSchema = z.array(SnowflakeSchema).max(64)

export const SubscribedFrameSchema = RoomFrame.extend({
  type: z.literal('subscribed'),
  /** true: the frames after `since` follow; false: a presence.snapshot follows. */
  recovered: z.boolean(),
  /** The room stream's current epoch; send it back with `since` when resuming. */
  epoch: StreamEpochSchema.optional(),
  /** Who has the room page open now (on a resume: the snapshot has them otherwise). */
  viewers: ViewersSchema.optional(),
})
export const PresenceSnapshotFrameSchema = RoomFrame.extend({
  type: z.literal('presence.snapshot'),
  channelId: SnowflakeSchema,
  members: z.array(VoiceMemberSchema),
  state: RoomStateSchema,
  /** The room stream's epoch; frames with seq > this frame's seq follow. */
  epoch: StreamEpochSchema.optional(),
  /** Who has the room page open now. */
  viewers: ViewersSchema.optional(),
})
export const VoiceJoinedFrameSchema = RoomFrame.extend({
  type: z.literal('voice.joined'),
  member: VoiceMemberSchema,
  /** When the gateway received the Discord event (epoch ms), for latency measurement. */
  receivedAt: EpochMsSchema,
})
export const VoiceLeftFrameSchema = RoomFrame.extend({
  type: z.literal('voice.left'),
  userId: SnowflakeSchema,
  channelId: SnowflakeSchema,
  reason: VoiceLeftReasonSchema,
  receivedAt: EpochMsSchema,
})
export const VoiceUpdatedFrameSchema = RoomFrame.extend({
  type: z.literal('voice.updated'),
  member: VoiceMemberSchema,
  changed: z.array(z.enum(VOICE_FLAGS)).min(1),
  receivedAt: EpochMsSchema,
})
export const RoomUpdatedFrameSchema = RoomFrame.extend({
  type: z.literal('room.updated'),
  state: RoomStateSchema,
})
export const RoomClosingFrameSchema = RoomFrame.extend({
  type: z.literal('room.closing'),
  closesAt: EpochMsSchema,
})
/**
 * Why a room closed: its host (or its last player) closed it, nobody used it for an hour, its
 * Discord channel was deleted, or the bot was removed from the room's Discord server.
 */
export const RoomDeletedReasonSchema = z.enum([
  'closed',
  'inactive',
  'channel_gone',
  'guild_removed',
])
export type RoomDeletedReason = z.infer<typeof RoomDeletedReasonSchema>
export const RoomDeletedFrameSchema = RoomFrame.extend({
  type: z.literal('room.deleted'),
  reason: RoomDeletedReasonSchema,
})

/** A room frame outside the numbered stream: never replayed, applied as it comes. */
const UnnumberedRoomFrame = z.object({
  v: z.literal(PROTOCOL_VERSION),
  room: RoomIdSchema,
  seq: z.literal(0),
  ts: EpochMsSchema,
})

/**
 * The users with the room page open changed (a page opened or closed on any node, or a node
 * died). The whole list, so the latest frame is the truth; the next `subscribed` or snapshot
 * carries it again after a reconnect.
 */
export const RoomViewersFrameSchema = UnnumberedRoomFrame.extend({
  type: z.literal('room.viewers'),
  viewers: ViewersSchema,
})

/**
 * A player's, spectator's or voice member's Discord display data changed: update it wherever the
 * user appears. The players' and spectators' copies in the room state follow in a room.updated.
 */
export const ProfileUpdatedFrameSchema = UnnumberedRoomFrame.extend({
  type: z.literal('profile.updated'),
  userId: SnowflakeSchema,
  profile: ProfileSchema,
})

/** One of the caller's rooms, for the home page's list. */
export const RoomSummarySchema = z.object({
  id: RoomIdSchema,
  name: RoomNameSchema,
  role: z.enum(['host', 'player']),
  players: z.number().int().min(0).max(MAX_PLAYERS),
  maxPlayers: z.literal(MAX_PLAYERS),
  spectators: z.number().int().nonnegative(),
  /** People in the room's voice channel when the list was sent (the room's stream keeps it live). */
  inVoice: z.number().int().nonnegative(),
  status: RoomStatusSchema,
  locked: z.boolean(),
  createdAt: EpochMsSchema,
})
export type RoomSummary = z.infer<typeof RoomSummarySchema>

/**
 * The caller's rooms (hosted or seated), newest first: the answer to `rooms.follow`, sent again
 * whenever a room is created, closed, joined or left, anywhere.
 */
export const RoomsListFrameSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('rooms.list'),
  room: z.null(),
  seq: z.literal(0),
  ts: EpochMsSchema,
  rooms: z.array(RoomSummarySchema),
})

export const WsErrorCodeSchema = z.enum([
  'BAD_FRAME',
  'UNSUPPORTED_VERSION',
  'FORBIDDEN',
  'ROOM_NOT_FOUND',
  'RATE_LIMITED',
  'INTERNAL',
])
export type WsErrorCode = z.infer<typeof WsErrorCodeSchema>

export const ErrorFrameSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('error'),
  room: RoomIdSchema.nullable(),
  seq: z.literal(0),
  ts: EpochMsSchema,
  code: WsErrorCodeSchema,
  message: z.string(),
})
export const PongFrameSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('pong'),
  room: z.null(),
  seq: z.literal(0),
  ts: EpochMsSchema,
  id: z.number().int().nonnegative().optional(),
})

/** Frames that belong to a room stream and carry its sequence number. */
export const RoomEventFrameSchema = z.discriminatedUnion('type', [
  VoiceJoinedFrameSchema,
  VoiceLeftFrameSchema,
  VoiceUpdatedFrameSchema,
  RoomUpdatedFrameSchema,
  RoomClosingFrameSchema,
  RoomDeletedFrameSchema,
])
export type RoomEventFrame = z.infer<typeof RoomEventFrameSchema>

export const ServerFrameSchema = z.discriminatedUnion('type', [
  SubscribedFrameSchema,
  PresenceSnapshotFrameSchema,
  VoiceJoinedFrameSchema,
  VoiceLeftFrameSchema,
  VoiceUpdatedFrameSchema,
  RoomUpdatedFrameSchema,
  RoomClosingFrameSchema,
  RoomDeletedFrameSchema,
  RoomViewersFrameSchema,
  ProfileUpdatedFrameSchema,
  RoomsListFrameSchema,
  ErrorFrameSchema,
  PongFrameSchema,
])
export type ServerFrame = z.infer<typeof ServerFrameSchema>
export type PresenceSnapshotFrame = z.infer<typeof PresenceSnapshotFrameSchema>

// ---------------------------------------------------------------------------
// Close codes (4000-4999) and what a client does after each.
// ---------------------------------------------------------------------------

export const PresenceCloseCode = {
  /** Unexpected server error. */
  Internal: 4000,
  /** The session cookie expired or was revoked. */
  Unauthenticated: 4001,
  /** The client broke the protocol repeatedly. */
  ProtocolViolation: 4002,
  /** Too many frames per second. */
  RateLimited: 4008,
  /** The socket buffered too much: the client must reconnect and resume with `since`. */
  SlowConsumer: 4009,
  /** The user already has the maximum number of sockets open. */
  TooManySockets: 4010,
  /** The client speaks a protocol version the server does not. */
  UnsupportedVersion: 4011,
  /** The server is shutting down or restarting. */
  ShuttingDown: 4012,
  /** No pong arrived in time. */
  PingTimeout: 4013,
  /** A frame was larger than MAX_CLIENT_FRAME_BYTES. */
  FrameTooLarge: 4014,
} as const
export type PresenceCloseCode = (typeof PresenceCloseCode)[keyof typeof PresenceCloseCode]

/** reconnect: with backoff, resuming with `since`; resync: at once, resuming; stop: do not reconnect. */
export type ClosePolicy = 'reconnect' | 'resync' | 'stop'
export const CLOSE_POLICY = {
  [PresenceCloseCode.Internal]: 'reconnect',
  [PresenceCloseCode.Unauthenticated]: 'stop',
  [PresenceCloseCode.ProtocolViolation]: 'stop',
  [PresenceCloseCode.RateLimited]: 'reconnect',
  [PresenceCloseCode.SlowConsumer]: 'resync',
  [PresenceCloseCode.TooManySockets]: 'stop',
  [PresenceCloseCode.UnsupportedVersion]: 'stop',
  [PresenceCloseCode.ShuttingDown]: 'reconnect',
  [PresenceCloseCode.PingTimeout]: 'reconnect',
  [PresenceCloseCode.FrameTooLarge]: 'stop',
} as const satisfies Record<PresenceCloseCode, ClosePolicy>

/**
 * 1009 Message Too Big: the WebSocket transport refused a frame over MAX_CLIENT_FRAME_BYTES as it
 * arrived (the server never buffers one); the same client would send it again, as for 4014.
 */
export const MESSAGE_TOO_BIG = 1009

/** Policy for any close code, including the standard ones (1000-1015) and unknown codes. */
export function closePolicy(code: number): ClosePolicy {
  if (code === MESSAGE_TOO_BIG) return CLOSE_POLICY[PresenceCloseCode.FrameTooLarge]
  const known = (CLOSE_POLICY as Record<number, ClosePolicy>)[code]
  return known ?? 'reconnect'
}
