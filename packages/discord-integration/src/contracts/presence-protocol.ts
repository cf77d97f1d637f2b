import { z } from 'zod'
import { EpochMsSchema, PROTOCOL_VERSION, RoomIdSchema, SnowflakeSchema } from './common'
import { PlayerSchema, RoomStatusSchema } from './rooms'
import { VOICE_FLAGS, VoiceLeftReasonSchema, VoiceMemberSchema } from './voice'

/**
 * The browser <-> server WebSocket protocol at `/api/ws` (version 1).
 * Documented in specs/017-discord-gateway-real/contracts/websocket-protocol.md.
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
export const ClientFrameSchema = z.discriminatedUnion('type', [
  SubscribeFrameSchema,
  UnsubscribeFrameSchema,
  PingFrameSchema,
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

export const RoomStateSchema = z.object({
  ownerId: SnowflakeSchema,
  players: z.array(PlayerSchema),
  status: RoomStatusSchema,
  closesAt: EpochMsSchema.nullable(),
})
export type RoomState = z.infer<typeof RoomStateSchema>

export const SubscribedFrameSchema = RoomFrame.extend({
  type: z.literal('subscribed'),
  /** true: the frames after `since` follow; false: a presence.snapshot follows. */
  recovered: z.boolean(),
  /** The room stream's current epoch; send it back with `since` when resuming. */
  epoch: StreamEpochSchema.optional(),
})
export const PresenceSnapshotFrameSchema = RoomFrame.extend({
  type: z.literal('presence.snapshot'),
  channelId: SnowflakeSchema,
  members: z.array(VoiceMemberSchema),
  state: RoomStateSchema,
  /** The room stream's epoch; frames with seq > this frame's seq follow. */
  epoch: StreamEpochSchema.optional(),
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
export const RoomDeletedFrameSchema = RoomFrame.extend({
  type: z.literal('room.deleted'),
  reason: z.enum(['closed', 'inactive', 'channel_gone']),
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
