import type {
  ConnectVoiceResult,
  RoomLinks as PlayerLinks,
  RoomRole,
  RoomView,
} from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import type { Actor, RoomAccess, RoomDirectory, SessionUser, UserRoom } from '../../server/ports'
import type { CategoryAllocator, GuildUsage } from './category-allocator.server'
import type { HostCommands } from './host-commands.server'
import type { LifecycleRunner } from './lifecycle-runner.server'
import type { InvitePreview, JoinResult, RoomCommands } from './room-commands.server'
import type { CachedRoomDirectory } from './room-directory.server'
import { buildRoomParts, roomsPerGuild } from './room-parts.server'
import type { ReconcileReport, RoomReconciler } from './room-reconciler.server'
import type { RoomServiceOptions } from './room-service-options'
import type { RoomStore } from './room-store'
import type { RoomSweeper, SweepReport } from './room-sweeper.server'
import type { WatchCommands, WatchPreview } from './watch-commands.server'

// RoomService's options and limits (room-service-options.ts), importable from here too.
export {
  CODE_ATTEMPTS_PER_ADDRESS,
  CODE_ATTEMPTS_PER_USER,
  MAX_ROOMS_PER_OWNER,
  type RoomServiceOptions,
} from './room-service-options'

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
    const parts = buildRoomParts(options)
    this.#directory = parts.directory
    this.#lifecycle = parts.lifecycle
    this.#commands = parts.commands
    this.#host = parts.host
    this.#watch = parts.watch
    this.#sweeper = parts.sweeper
    this.#reconciler = parts.reconciler
    this.#categories = parts.categories
    this.#pool = options.pool
    this.#store = options.store
    this.#logger = options.logger
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
