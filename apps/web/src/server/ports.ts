import type { GuildChange, GuildPresence } from '@repo/discord-gateway'
import type {
  RoomEventFrame,
  RoomState,
  RoomSummary,
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
 * Read access to live voice presence in every guild: the in-process gateway feed (one node) or
 * this node's mirror of the guilds' voice streams (several nodes on Redis). Voice events carry
 * their guildId; channel ids are global snowflakes.
 */
export interface VoicePresence {
  subscribe(listener: (event: VoiceEvent, origin?: VoiceEventOrigin) => void): () => void
  channelMembers(channelId: string): VoiceMember[]
  /** The voice channel `userId` is in within `guildId`, or null. */
  memberChannel(guildId: string, userId: string): string | null
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

/** The guilds the bot is in and their changes, as the gateway package defines them. */
export type { GuildChange, GuildPresence } from '@repo/discord-gateway'

/** The guilds the gateway sees, and their changes (the guild half of the feed's GuildVoice). */
export interface GuildFeed {
  guilds(): GuildPresence[]
  onGuild(listener: (change: GuildChange) => void): () => void
}

/** What the presence layer needs from the rooms layer. */
export interface RoomDirectory {
  /** The open room that owns this voice channel, if any. */
  roomForChannel(channelId: string): string | null
  /**
   * The room's channel and state when `userId` is one of its players or spectators; null
   * otherwise (or unknown room).
   */
  roomAccess(roomId: string, userId: string): RoomAccess | null
  /** The open rooms `userId` hosts, sits in or watches, newest first (home page, profile routing). */
  roomsOfUser?(userId: string): UserRoom[]
  /**
   * `listener` gets the users whose rooms changed (a room created, closed, joined or left, or one
   * of theirs changed), on whichever node the change was made. Returns the unsubscribe.
   */
  onUserRoomsChange?(listener: (userIds: readonly string[]) => void): () => void
}
/** One of a user's rooms. */
export interface UserRoom {
  summary: RoomSummary
  /** What they are in it (a spectator's rooms are not on their home page). */
  role: 'host' | 'player' | 'spectator'
  channelId: string
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

/**
 * Who has which room page open, over every node: the presence layer reports its page
 * subscriptions, and anyone reads the union ("who is here", seats held through drops). In memory
 * on one node; on Redis with a heartbeat per node, so a dead node's viewers expire
 * (viewer-presence.ts, redis-viewer-presence.server.ts).
 */
export interface ViewerPresence {
  /** Users with the room's page open on any node, sorted. */
  viewers(roomId: string): readonly string[]
  isViewing(roomId: string, userId: string): boolean
  /** False until the other nodes' viewers are known (right after start): decide nothing on it. */
  readonly synced: boolean
  /** `listener(roomId)` after a room's viewers changed, whichever node changed them. */
  onChange(listener: (roomId: string) => void): () => void
}

/** A node's side of ViewerPresence: its own page subscriptions (counted per socket). */
export interface ViewerRegistry extends ViewerPresence {
  /** A socket of `userId` opened the room's page on this node. */
  open(roomId: string, userId: string): void
  /** That socket closed the page (unsubscribed, closed, dropped). */
  close(roomId: string, userId: string): void
  start(): Promise<void>
  stop(): Promise<void>
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
