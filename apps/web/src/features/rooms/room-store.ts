import {
  PlayerSchema,
  RoomStatusSchema,
  SpectatorSchema,
} from '@repo/discord-integration/contracts'
import { z } from 'zod'

/**
 * A room as persisted. The browser sees a RoomView derived from it. The fields added by issue 21
 * have defaults, so rooms stored before them load unchanged.
 */
export const RoomRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  guildId: z.string(),
  channelId: z.string(),
  categoryId: z.string(),
  ownerId: z.string(),
  players: z.array(PlayerSchema),
  status: RoomStatusSchema,
  createdAt: z.number(),
  closesAt: z.number().nullable(),
  /** Bumped by rotateInvite: links signed with an older version stop working. */
  inviteVersion: z.number().int().nonnegative(),
  inviteExpiresAt: z.number(),
  inviteToken: z.string(),
  /** Last time someone was in voice or viewing the page (epoch ms). */
  lastActivityAt: z.number(),
  /** Watching without a seat (listen-only in voice), at most MAX_SPECTATORS. */
  spectators: z.array(SpectatorSchema).default([]),
  /** No new players by invite link or code while set. */
  locked: z.boolean().default(false),
  /**
   * The room code, valid until inviteExpiresAt; rotated and renewed with the invite link. Null
   * until one is minted (rooms stored before codes get theirs when a player next asks).
   */
  code: z.string().nullable().default(null),
  /** Bumped whenever the players' links change (RoomState.linksRev). */
  linksRev: z.number().int().nonnegative().default(0),
  /** The watch link: its version (rotation and revocation bump it), token and expiry; null = none. */
  watchVersion: z.number().int().nonnegative().default(0),
  watchToken: z.string().nullable().default(null),
  watchExpiresAt: z.number().nullable().default(null),
})
export type RoomRecord = z.infer<typeof RoomRecordSchema>

/**
 * What a mutation decides: `next` replaces the room (null deletes it, undefined
 * leaves it unchanged); `result` is handed back to the caller.
 */
export interface Mutation<T> {
  next?: RoomRecord | null
  result: T
}

/** Limits an insert checks atomically with its write. */
export interface InsertOptions {
  /**
   * Refuse the room when its owner already owns this many rooms. The count and the write are one
   * atomic step, across every process sharing the store.
   */
  maxRoomsPerOwner?: number
}

/** `owner_cap`: refused, the owner already owns `maxRoomsPerOwner` rooms (nothing written). */
export type InsertResult = 'inserted' | 'owner_cap'

/**
 * Persistence for rooms and the Discord categories we created. `mutate` is an
 * atomic read-modify-write: no other write to that room can slip in between the
 * read and the write (in-process queue for the file store, compare-and-set for Redis); so is
 * `insert`'s owner cap.
 */
export interface RoomStore {
  get(roomId: string): Promise<RoomRecord | null>
  list(): Promise<RoomRecord[]>
  /** Inserts a new room unless its owner is at `maxRoomsPerOwner`; throws if the id exists. */
  insert(room: RoomRecord, options?: InsertOptions): Promise<InsertResult>
  /** Atomically reads, decides and writes one room. `fn` sees null for an unknown room. */
  mutate<T>(roomId: string, fn: (room: RoomRecord | null) => Mutation<T>): Promise<T>
  /**
   * Ids of the Discord categories this app created in the guild. Categories stored before guilds
   * were recorded belong to the store's home guild (StoreGuildOptions.homeGuildId).
   */
  listCategories(guildId: string): Promise<string[]>
  addCategory(categoryId: string, guildId: string): Promise<void>
  removeCategory(categoryId: string): Promise<void>
  /** Waits for pending writes and releases resources. */
  close(): Promise<void>
  /**
   * Change notifications from every process sharing the store (multi-node stores only).
   * `listener` gets the id of a room that was written or deleted (by anyone, this process
   * included), or null when notifications may have been missed (a reconnect): then every
   * room should be reloaded. Returns an unsubscribe function.
   */
  watch?(listener: (roomId: string | null) => void): () => void
  /**
   * Shared stores: when the store lost its data (a Redis that restarted without persistence),
   * writes back the rooms a node still holds in memory (those absent from the store), once for all
   * nodes; does nothing while the store holds the data it held when this node first called it
   * (the first call, at start, only remembers that). Returns how many rooms it wrote back.
   */
  restore?(rooms: readonly RoomRecord[]): Promise<number>
}

/** How a store reads data written before rooms could be in several guilds. */
export interface StoreGuildOptions {
  /**
   * The guild of categories stored without one (the configured DISCORD_GUILD_ID): they were made
   * when a deployment served that guild alone. Without it, such categories belong to no guild.
   */
  homeGuildId?: string
}
