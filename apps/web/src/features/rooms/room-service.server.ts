import {
  type ConnectVoiceResult,
  type RoomLinks as PlayerLinks,
  ROOM_CLOSING_WARNING_MS,
  ROOM_IDLE_MS,
  type RoomRole,
  type RoomView,
} from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import { type AttemptLimits, MemoryAttemptLimiter } from '../../server/attempt-limiter'
import type { Clock } from '../../server/clock'
import type {
  Actor,
  RoomAccess,
  RoomDirectory,
  RoomEvents,
  SessionUser,
  UserRoom,
  ViewerPresence,
  VoicePresence,
} from '../../server/ports'
import {
  CategoryAllocator,
  type GuildUsage,
  ROOM_CATEGORY_PREFIX,
} from './category-allocator.server'
import type { DiscordGuilds } from './discord-rooms.server'
import { type GuildPlacement, PoolPlacement } from './guild-placement.server'
import { HostCommands } from './host-commands.server'
import type { InviteTokens } from './invite-token.server'
import { KeyedMutex } from './keyed-mutex'
import { LifecycleRunner } from './lifecycle-runner.server'
import { ProfileSync } from './profile-sync.server'
import {
  type CodeAttemptLimits,
  type InvitePreview,
  type JoinResult,
  RoomCommands,
} from './room-commands.server'
import { CachedRoomDirectory } from './room-directory.server'
import { RoomInvites } from './room-invites.server'
import { DEFAULT_TIMING } from './room-lifecycle'
import { RoomOps } from './room-ops.server'
import { type ReconcileReport, RoomReconciler } from './room-reconciler.server'
import type { RoomStore } from './room-store'
import { RoomSweeper, type SweepReport } from './room-sweeper.server'
import { DEFAULT_SEAT_TIMING, type SeatTiming } from './seat-holds'
import { SeatKeeper } from './seat-keeper.server'
import { WatchCommands, type WatchPreview } from './watch-commands.server'

/** Open rooms one user may host at once, unless configured otherwise. */
export const MAX_ROOMS_PER_OWNER = 3

/**
 * Room code attempts: ten per user and thirty per address in ten minutes. Codes are drawn from
 * about 595 million; with 500 rooms open, a guesser needs over a million tries per hit, that is
 * years for one account.
 */
export const CODE_ATTEMPTS_PER_USER: AttemptLimits = { limit: 10, windowMs: 10 * 60_000 }
export const CODE_ATTEMPTS_PER_ADDRESS: AttemptLimits = { limit: 30, windowMs: 10 * 60_000 }

/** Dependencies and options of {@link RoomService}. */
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

/**
 * Rooms: each owns one private Discord voice channel. This composes the parts and is what the
 * runtime hands out (server functions, the presence layer, the cleanup scheduler):
 * - {@link CachedRoomDirectory}: the open rooms in memory, for synchronous lookups;
 * - {@link RoomCommands}: create, join (by link or code), leave, kick, close, rotate, connect
 *   voice, read; {@link HostCommands}: lock, hand over, free a held seat; {@link WatchCommands}:
 *   spectators and their watch link;
 * - {@link LifecycleRunner} over room-lifecycle.ts: every open → closing → closed rule;
 * - {@link RoomSweeper}: activity (batched writes) and the cleanup pass, with its
 *   {@link SeatKeeper} (seats held through drops, the leader's) and {@link ProfileSync};
 * - {@link RoomReconciler} and {@link CategoryAllocator}: the rooms' side of Discord's channels.
 */
export class RoomService implements RoomDirectory {
  readonly #directory: CachedRoomDirectory
  readonly #lifecycle: LifecycleRunner
  readonly #commands: RoomCommands
  readonly #host: HostCommands
  readonly #watch: WatchCommands
  readonly #sweeper: RoomSweeper
  readonly #reconciler: RoomReconciler
  readonly #categories: CategoryAllocator
  readonly #pool: readonly string[]
  readonly #store: RoomStore
  readonly #logger: Logger

  constructor(options: RoomServiceOptions) {
    const { store, discord, voice, events, clock, logger } = options
    const isLeader = options.isLeader ?? (() => true)
    const mutex = new KeyedMutex()
    const directory = new CachedRoomDirectory({ store, logger })
    const lifecycle = new LifecycleRunner({
      store,
      directory,
      discord,
      events,
      clock,
      logger,
      timing: {
        ...DEFAULT_TIMING,
        idleMs: options.idleMs ?? ROOM_IDLE_MS,
        warningMs: options.warningMs ?? ROOM_CLOSING_WARNING_MS,
      },
    })
    const categoryPrefix = options.categoryPrefix ?? ROOM_CATEGORY_PREFIX
    const categories = new CategoryAllocator({
      store,
      discord,
      limits: {
        channelsPerCategory: options.channelsPerCategory ?? 50,
        guildChannelLimit: options.guildChannelLimit ?? 500,
      },
      categoryPrefix,
    })
    const pool = new PoolPlacement({
      pool: options.pool,
      // From memory (the open rooms, categories as last read): a preference only, since the
      // category allocator decides under the guild's lock from the store.
      usage: async (guildIds) => categories.usageNow(guildIds, roomsPerGuild(directory)),
      ...(options.placeable ? { placeable: options.placeable } : {}),
    })
    this.#categories = categories
    this.#pool = options.pool
    this.#store = store
    this.#logger = logger
    const links = { publicUrl: options.publicUrl, discordWebUrl: options.discordWebUrl }
    const ops = new RoomOps({ store, directory, discord, voice, events, logger, links })
    const invites = new RoomInvites({
      store,
      tokens: options.invites,
      watchTokens: options.invites.forKind('watch'),
      directory,
      clock,
    })
    this.#directory = directory
    this.#lifecycle = lifecycle
    this.#commands = new RoomCommands({
      store,
      discord,
      clock,
      logger,
      directory,
      lifecycle,
      mutex,
      ops,
      invites,
      categories,
      placement: options.placement ? options.placement(pool) : pool,
      links,
      maxRoomsPerOwner: options.maxRoomsPerOwner ?? MAX_ROOMS_PER_OWNER,
      codeAttempts: options.codeAttempts ?? {
        perUser: new MemoryAttemptLimiter(CODE_ATTEMPTS_PER_USER, { now: () => clock.now() }),
        perAddress: new MemoryAttemptLimiter(CODE_ATTEMPTS_PER_ADDRESS, { now: () => clock.now() }),
      },
    })
    this.#host = new HostCommands({ store, ops, mutex, logger })
    this.#watch = new WatchCommands({ store, discord, invites, ops, mutex, clock, logger, links })
    const voiceReady = options.voiceReady ?? (() => true)
    const seats = options.viewers
      ? new SeatKeeper({
          store,
          directory,
          discord,
          voice,
          viewers: options.viewers,
          ops,
          clock,
          logger,
          timing: { ...DEFAULT_SEAT_TIMING, ...options.seatTiming },
          isLeader,
          voiceReady,
        })
      : null
    this.#sweeper = new RoomSweeper({
      store,
      directory,
      lifecycle,
      voice,
      events,
      clock,
      logger,
      voiceReady,
      isLeader,
      activityFlushMs: options.activityFlushMs ?? 5_000,
      seats,
      profiles: new ProfileSync({ store, directory, ops, logger }),
    })
    this.#reconciler = new RoomReconciler({
      store,
      discord,
      categories,
      guilds: () => options.pool,
      ...(options.reachable ? { reachable: options.reachable } : {}),
      lifecycle,
      mutex,
      clock,
      logger,
      categoryPrefix,
      isLeader,
      orphanGraceMs: options.orphanGraceMs ?? 0,
    })
  }

  /**
   * Loads the rooms into memory and starts watching voice activity and, with a
   * shared store, the changes other nodes make (so the synchronous RoomDirectory
   * lookups stay current on every node).
   */
  async start(): Promise<void> {
    await this.#directory.start()
    this.#sweeper.start()
  }

  stop(): void {
    this.#sweeper.stop()
    this.#directory.stop()
  }

  /** Reloads every room from the store into the cache (see CachedRoomDirectory.refresh). */
  refreshCache(): Promise<void> {
    return this.#directory.refresh()
  }

  // RoomDirectory (for the presence layer)

  roomForChannel(channelId: string): string | null {
    return this.#directory.roomForChannel(channelId)
  }

  roomAccess(roomId: string, userId: string): RoomAccess | null {
    return this.#directory.roomAccess(roomId, userId)
  }

  roomsOfUser(userId: string): UserRoom[] {
    return this.#directory.roomsOfUser(userId)
  }

  onUserRoomsChange(listener: (userIds: readonly string[]) => void): () => void {
    return this.#directory.onUserRoomsChange(listener)
  }

  /** Number of open rooms (for health). */
  get openRooms(): number {
    return this.#directory.size
  }

  // Commands (see RoomCommands)

  /** `options.guildId`: the guild the player picked (community servers); else the pool decides. */
  createRoom(actor: Actor, name: string, options: { guildId?: string } = {}): Promise<RoomView> {
    return this.#commands.createRoom(actor, name, options)
  }

  /** The room as its player or spectator sees it. */
  async getRoom(actor: SessionUser, roomId: string): Promise<RoomView> {
    return (await this.#commands.openRoom(actor, roomId)).room
  }

  openRoom(actor: SessionUser, roomId: string): Promise<{ room: RoomView; role: RoomRole }> {
    return this.#commands.openRoom(actor, roomId)
  }

  getRoomLinks(actor: SessionUser, roomId: string): Promise<PlayerLinks> {
    return this.#commands.getRoomLinks(actor, roomId)
  }

  previewInvite(roomId: string, token: string): Promise<InvitePreview> {
    return this.#commands.previewInvite(roomId, token)
  }

  joinRoom(actor: Actor, roomId: string, token: string): Promise<JoinResult> {
    return this.#commands.joinRoom(actor, roomId, token)
  }

  /** `address`: the caller's (see clientAddress), for the per-address attempt limit. */
  joinByCode(actor: Actor, code: string, address: string | null): Promise<JoinResult> {
    return this.#commands.joinByCode(actor, code, address)
  }

  leaveRoom(actor: SessionUser, roomId: string): Promise<void> {
    return this.#commands.leaveRoom(actor, roomId)
  }

  closeRoom(actor: SessionUser, roomId: string): Promise<void> {
    return this.#commands.closeRoom(actor, roomId)
  }

  kickPlayer(actor: SessionUser, roomId: string, userId: string): Promise<RoomView> {
    return this.#commands.kickPlayer(actor, roomId, userId)
  }

  rotateInvite(actor: SessionUser, roomId: string): Promise<RoomView> {
    return this.#commands.rotateInvite(actor, roomId)
  }

  connectVoice(actor: SessionUser, roomId: string): Promise<ConnectVoiceResult> {
    return this.#commands.connectVoice(actor, roomId)
  }

  listMyRooms(actor: SessionUser): Promise<RoomView[]> {
    return this.#commands.listMyRooms(actor)
  }

  // The host's controls (see HostCommands) and spectators (see WatchCommands)

  setLocked(actor: SessionUser, roomId: string, locked: boolean): Promise<RoomView> {
    return this.#host.setLocked(actor, roomId, locked)
  }

  transferHost(actor: SessionUser, roomId: string, userId: string): Promise<RoomView> {
    return this.#host.transferHost(actor, roomId, userId)
  }

  freeSeat(actor: SessionUser, roomId: string, userId: string): Promise<RoomView> {
    return this.#host.freeSeat(actor, roomId, userId)
  }

  rotateWatchLink(actor: SessionUser, roomId: string): Promise<PlayerLinks> {
    return this.#watch.rotateWatchLink(actor, roomId)
  }

  revokeWatchLink(actor: SessionUser, roomId: string): Promise<PlayerLinks> {
    return this.#watch.revokeWatchLink(actor, roomId)
  }

  previewWatch(roomId: string, token: string): Promise<WatchPreview> {
    return this.#watch.previewWatch(roomId, token)
  }

  watchRoom(actor: Actor, roomId: string, token: string): Promise<RoomView> {
    return this.#watch.watchRoom(actor, roomId, token)
  }

  removeSpectator(actor: SessionUser, roomId: string, userId: string): Promise<RoomView> {
    return this.#watch.removeSpectator(actor, roomId, userId)
  }

  // Closing, cleanup and reconciliation

  /** Closes a room now, whoever asks (see LifecycleRunner.close); whether this call closed it. */
  closeRoomInternal(
    roomId: string,
    reason: 'closed' | 'channel_gone' | 'guild_removed',
  ): Promise<boolean> {
    return this.#lifecycle.close(roomId, reason)
  }

  /**
   * The bot was removed from a guild: its open rooms close (room.deleted `guild_removed`, their
   * channels are out of reach) and nothing else is touched. Idempotent (every node may call it).
   * @returns the rooms this call closed
   */
  async closeGuildRooms(guildId: string): Promise<string[]> {
    const closed: string[] = []
    for (const room of await this.#store.list()) {
      if (room.guildId !== guildId) continue
      if (await this.#lifecycle.close(room.id, 'guild_removed')) closed.push(room.id)
    }
    this.#logger.info(
      { guildId, rooms: closed.length },
      'bot removed from a guild: its rooms closed',
    )
    return closed
  }

  /** Open rooms per guild (health and metrics). */
  roomsByGuild(): Map<string, number> {
    return roomsPerGuild(this.#directory)
  }

  /** How full each guild is: the pool's and `extra` ones (from the store). */
  guildUsage(extra: readonly string[] = []): Promise<GuildUsage[]> {
    return this.#categories.usage([...new Set([...this.#pool, ...extra])])
  }

  /**
   * How full each guild is from memory (health and metrics, no I/O): the pool's, those of open
   * rooms and `extra` ones. Categories as last read (after the start-up reconciliation, exact).
   */
  guildUsageNow(extra: readonly string[] = []): GuildUsage[] {
    const rooms = this.roomsByGuild()
    return this.#categories.usageNow(
      [...new Set([...this.#pool, ...rooms.keys(), ...extra])],
      rooms,
    )
  }

  /** One cleanup pass (see RoomSweeper.sweep). */
  sweep(): Promise<SweepReport> {
    return this.#sweeper.sweep()
  }

  /** When the next sweep has something to do, epoch ms; null if nothing (or not the leader). */
  nextDeadline(): number | null {
    return this.#sweeper.nextDeadline()
  }

  /** Brings the store and Discord back in line (see RoomReconciler). */
  reconcile(): Promise<ReconcileReport> {
    return this.#reconciler.reconcile()
  }
}

/** Open rooms per guild, from the directory. */
function roomsPerGuild(directory: CachedRoomDirectory): Map<string, number> {
  const counts = new Map<string, number>()
  for (const room of directory.rooms()) {
    counts.set(room.guildId, (counts.get(room.guildId) ?? 0) + 1)
  }
  return counts
}
