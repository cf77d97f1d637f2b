import type {
  RoomEventFrame,
  RoomState,
  VoiceEvent,
  VoiceMember,
} from '@repo/discord-integration/contracts'

/**
 * The seams between the app's server-side parts. Each side depends on these
 * interfaces, not on the other's implementation, so that tests can plug in
 * real parts one at a time.
 */

/**
 * Where a voice event comes from on several nodes (the clustered feed): an entry of the guild's
 * Redis stream (`stream`: the same on every node, so `epoch` + `id` identify it everywhere), or a
 * difference this node computed after reloading the snapshot (`resync`: local to this node).
 * The single-node feed gives none.
 */
export interface VoiceEventOrigin {
  readonly kind: 'stream' | 'resync'
  readonly epoch: string
  readonly id: string
}

/**
 * Read access to live voice presence: the in-process gateway feed (one node) or this node's
 * mirror of the guild's voice stream (several nodes on Redis).
 */
export interface VoicePresence {
  subscribe(listener: (event: VoiceEvent, origin?: VoiceEventOrigin) => void): () => void
  channelMembers(channelId: string): VoiceMember[]
  memberChannel(userId: string): string | null
  /**
   * Several nodes: called after this node reloaded the voice snapshot because the stream could
   * not fill a gap (its differences came just before, with origin `resync`).
   */
  onResync?(listener: () => void): () => void
  /**
   * Several nodes: resolves once this node applied everything the voice stream held when it was
   * called (false after `timeoutMs`), so a snapshot read next includes what other nodes published.
   */
  caughtUp?(timeoutMs?: number): Promise<boolean>
}

/** What the presence layer needs from the rooms layer. */
export interface RoomDirectory {
  /** The open room that owns this voice channel, if any. */
  roomForChannel(channelId: string): string | null
  /** The room's channel and state when `userId` is one of its players; null otherwise (or unknown room). */
  roomAccess(roomId: string, userId: string): RoomAccess | null
}
export interface RoomAccess {
  channelId: string
  state: RoomState
}

/** A room frame before the bus stamps it with v, room, seq and ts. */
export type RoomFrameBody = DistributiveOmit<RoomEventFrame, 'v' | 'room' | 'seq' | 'ts'>
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** What the rooms layer needs from the presence layer. */
export interface RoomEvents {
  /** Publishes a frame on the room's stream (to every subscribed browser). */
  publish(roomId: string, frame: RoomFrameBody): void
  /** How many sockets are currently subscribed to the room (its viewers). */
  viewerCount(roomId: string): number
}

/** The signed-in user as the server knows them (from the encrypted session cookie). */
export interface SessionUser {
  userId: string
  username: string
  globalName: string | null
  avatar: string | null
}

/** The signed-in caller, from the server-side session (never from browser input). */
export interface Actor extends SessionUser {
  /** The user's Discord OAuth access token (for guilds.join). */
  accessToken: string
}
