import type { Logger } from 'pino'
import type { AttemptLimits } from '../../server/attempt-limiter'
import type { Clock } from '../../server/clock'
import type { RoomEvents, ViewerPresence, VoicePresence } from '../../server/ports'
import type { DiscordGuilds } from './discord-rooms.server'
import type { GuildPlacement } from './guild-placement.server'
import type { InviteTokens } from './invite-token.server'
import type { CodeAttemptLimits } from './room-commands.server'
import type { RoomStore } from './room-store'
import type { SeatTiming } from './seat-holds'

/** Open rooms one user may host at once, unless configured otherwise. */
export const MAX_ROOMS_PER_OWNER = 3

/**
 * Room code attempts: ten per user and thirty per address in ten minutes. Codes are drawn from
 * about 595 million; with 500 rooms open, a guesser needs over a million tries per hit, that is
 * years for one account.
 */
export const CODE_ATTEMPTS_PER_USER: AttemptLimits = { limit: 10, windowMs: 10 * 60_000 }
export const CODE_ATTEMPTS_PER_ADDRESS: AttemptLimits = { limit: 30, windowMs: 10 * 60_000 }

/** Dependencies and options of RoomService (room-service.server.ts). */
export interface RoomServiceOptions {
  store: RoomStore
  /** Discord, per guild (RestDiscordRooms serves every guild through forGuild). */
  discord: DiscordGuilds
  /** The pool of guilds rooms go in (DISCORD_GUILD_ID / DISCORD_GUILD_IDS), in order. */
  pool: readonly string[]
  /**
   * Whether a guild may take new rooms now (the guild registry: the bot is in it, no outage, its
   * permissions hold). @defaultValue every guild
   */
  placeable?: (guildId: string) => boolean
  /** Whether a guild can be reconciled now (not removed, no outage). @defaultValue every guild */
  reachable?: (guildId: string) => boolean
  /**
   * Chooses a new room's guild, given the pool placement (community servers wrap it).
   * @defaultValue the pool placement
   */
  placement?: (pool: GuildPlacement) => GuildPlacement
  voice: VoicePresence
  events: RoomEvents
  invites: InviteTokens
  clock: Clock
  logger: Logger
  /** `PUBLIC_URL`, for invite links. */
  publicUrl: string
  /** `DISCORD_WEB_URL`, for voice channel links. */
  discordWebUrl: string
  /** Open rooms one user may host at once. @defaultValue 3 */
  maxRoomsPerOwner?: number
  /** Room channels per category (Discord allows 50). @defaultValue 50 */
  channelsPerCategory?: number
  /** Channels in the guild, ours and others (Discord allows 500). @defaultValue 500 */
  guildChannelLimit?: number
  /** Name prefix of the categories we create (they are also tracked by id). @defaultValue 'Table Voice rooms' */
  categoryPrefix?: string
  /** A guild's own category prefix (a community server's "Category name"), or null for the default. */
  categoryName?: (guildId: string) => Promise<string | null>
  idleMs?: number
  warningMs?: number
  /**
   * Whether voice presence is known (the gateway feed is ready). While it is
   * not, every room counts as active: we never close a room on missing data.
   * @defaultValue () => true
   */
  voiceReady?: () => boolean
  /**
   * Whether this process leads the cleanup (several nodes on one store: see LeaderLease).
   * Every node marks the rooms it sees active; only the leader warns, closes and
   * reconciles. @defaultValue () => true (a single node)
   */
  isLeader?: () => boolean
  /**
   * Reconciliation spares channels in our categories younger than this (by their
   * snowflake time), so a room another node is creating right now is not taken
   * for an orphan. @defaultValue 0 (one node serialises creation and reconciliation)
   */
  orphanGraceMs?: number
  /**
   * Voice activity is written to the store in batches, at most this long after it happened
   * (a closing room is reopened at once). @defaultValue 5_000
   */
  activityFlushMs?: number
  /**
   * Who has which room page open, over every node. Seats are held through drops only with it
   * (without it a player's seat is theirs until they leave or are kicked).
   */
  viewers?: ViewerPresence
  /** How long a dropped player keeps the seat, and how long away counts as a drop. */
  seatTiming?: Partial<SeatTiming>
  /** Room code attempt counters. @defaultValue in memory, CODE_ATTEMPTS_PER_USER / _PER_ADDRESS */
  codeAttempts?: CodeAttemptLimits
}
