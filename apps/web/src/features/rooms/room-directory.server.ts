import { MAX_PLAYERS } from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import type { RoomAccess, RoomDirectory, UserRoom } from '../../server/ports'
import type { RoomRecord, RoomStore } from './room-store'
import { roleIn, roomState } from './room-view'

/** Everyone in a room: its players and its spectators. */
function membersOf(room: RoomRecord | undefined): string[] {
  if (!room) return []
  return [...room.players.map((p) => p.userId), ...room.spectators.map((s) => s.userId)]
}

/** What a user's list of rooms shows of a room: a change of it is news to its members. */
function listingOf(room: RoomRecord | undefined): string {
  if (!room) return ''
  return JSON.stringify([room.name, room.ownerId, membersOf(room), room.status, room.locked])
}

/**
 * The open rooms of this process, mirrored from the store, for the synchronous lookups the
 * presence layer makes on every voice event (`roomForChannel`, `roomAccess`) and for the
 * cleanup pass. With a shared store it follows the changes other nodes make (store.watch),
 * and a full refresh repairs whatever notifications were missed.
 *
 * Every write bumps the room's version, so a slow full reload never overwrites an entry written
 * after it began.
 */
export class CachedRoomDirectory implements RoomDirectory {
  readonly #store: RoomStore
  readonly #logger: Logger
  /** Open rooms by id, by voice channel id, by room code, and by member (player or spectator). */
  readonly #rooms = new Map<string, RoomRecord>()
  readonly #byChannel = new Map<string, string>()
  readonly #byCode = new Map<string, string>()
  readonly #byUser = new Map<string, Set<string>>()
  readonly #userRoomsListeners = new Set<(userIds: readonly string[]) => void>()
  /** Bumped on every cache write, so a slow full reload never overwrites a newer entry. */
  readonly #version = new Map<string, number>()
  #clock = 0
  /** Per room: a reload from the store is running (true: another is wanted after it). */
  readonly #reloading = new Map<string, boolean>()
  #unwatch: (() => void) | null = null

  constructor(options: { store: RoomStore; logger: Logger }) {
    this.#store = options.store
    this.#logger = options.logger
  }

  /** Starts following other nodes' changes (shared stores), then loads every room. */
  async start(): Promise<void> {
    if (this.#store.watch && !this.#unwatch) {
      this.#unwatch = this.#store.watch((roomId) => {
        if (roomId === null) void this.refresh()
        else this.#reload(roomId)
      })
    }
    // A shared store: remember which life of its data this node starts from (see refresh).
    await this.#store.restore?.([])
    for (const room of await this.#store.list()) this.remember(room)
  }

  stop(): void {
    this.#unwatch?.()
    this.#unwatch = null
  }

  /**
   * Reloads every room from the store (the safety net behind change notifications: run on each
   * sweep when the store is shared). Entries written locally while the list was read are kept.
   */
  async refresh(): Promise<void> {
    const startedAt = this.#clock
    let rooms: RoomRecord[]
    try {
      // A shared store that lost its data (Redis restarted empty) gets back what this node holds
      // before the list below would make it forget every room.
      if (this.#store.restore && this.#rooms.size > 0) {
        const restored = await this.#store.restore([...this.#rooms.values()])
        if (restored > 0) {
          this.#logger.warn(
            { restored },
            'the room store had lost its data: wrote back the rooms this node holds',
          )
        }
      }
      rooms = await this.#store.list()
    } catch (error) {
      this.#logger.warn({ err: error }, 'room cache refresh failed')
      return
    }
    const fresh = (id: string) => (this.#version.get(id) ?? 0) <= startedAt
    const seen = new Set<string>()
    for (const room of rooms) {
      seen.add(room.id)
      if (fresh(room.id)) this.remember(room)
    }
    for (const id of [...this.#rooms.keys()]) {
      if (!seen.has(id) && fresh(id)) this.forget(id)
    }
    // Versions of forgotten rooms are only needed while a refresh that began earlier runs.
    for (const [id, version] of this.#version) {
      if (!this.#rooms.has(id) && version <= startedAt) this.#version.delete(id)
    }
  }

  /** Re-reads one room after a change notification; reloads of a room never overlap. */
  #reload(roomId: string): void {
    if (this.#reloading.has(roomId)) {
      this.#reloading.set(roomId, true)
      return
    }
    this.#reloading.set(roomId, false)
    void (async () => {
      for (;;) {
        try {
          const room = await this.#store.get(roomId)
          if (room) this.remember(room)
          else this.forget(roomId)
        } catch (error) {
          this.#logger.warn({ err: error, roomId }, 'room reload failed')
        }
        if (this.#reloading.get(roomId) !== true) break
        this.#reloading.set(roomId, false)
      }
      this.#reloading.delete(roomId)
    })()
  }

  // ---------------------------------------------------------------------------
  // RoomDirectory (for the presence layer)
  // ---------------------------------------------------------------------------

  roomForChannel(channelId: string): string | null {
    return this.#byChannel.get(channelId) ?? null
  }

  roomAccess(roomId: string, userId: string): RoomAccess | null {
    const room = this.#rooms.get(roomId)
    if (!room || roleIn(room, userId) === null) return null
    return { channelId: room.channelId, state: roomState(room) }
  }

  roomsOfUser(userId: string): UserRoom[] {
    const out: UserRoom[] = []
    for (const roomId of this.#byUser.get(userId) ?? []) {
      const room = this.#rooms.get(roomId)
      const role = room && roleIn(room, userId)
      if (!room || !role) continue
      out.push({
        role,
        channelId: room.channelId,
        summary: {
          id: room.id,
          name: room.name,
          role: role === 'host' ? 'host' : 'player',
          players: Math.min(room.players.length, MAX_PLAYERS),
          maxPlayers: MAX_PLAYERS,
          spectators: room.spectators.length,
          inVoice: 0,
          status: room.status,
          locked: room.locked,
          createdAt: room.createdAt,
        },
      })
    }
    return out.sort((a, b) => b.summary.createdAt - a.summary.createdAt)
  }

  onUserRoomsChange(listener: (userIds: readonly string[]) => void): () => void {
    this.#userRoomsListeners.add(listener)
    return () => {
      this.#userRoomsListeners.delete(listener)
    }
  }

  /** Ids of the open rooms where the user sits or watches (O(their rooms)). */
  roomIdsOfUser(userId: string): string[] {
    return [...(this.#byUser.get(userId) ?? [])]
  }

  /** The open room with this code, as far as this node knows (the store's copy decides). */
  roomForCode(code: string): string | null {
    return this.#byCode.get(code) ?? null
  }

  // ---------------------------------------------------------------------------
  // The cache (for the rooms feature)
  // ---------------------------------------------------------------------------

  get(roomId: string): RoomRecord | undefined {
    return this.#rooms.get(roomId)
  }

  /** Ids of the open rooms, as they are now. */
  ids(): string[] {
    return [...this.#rooms.keys()]
  }

  rooms(): IterableIterator<RoomRecord> {
    return this.#rooms.values()
  }

  /** Number of open rooms. */
  get size(): number {
    return this.#rooms.size
  }

  /** How many open rooms `userId` owns, as far as this node knows. */
  ownedBy(userId: string): number {
    let owned = 0
    for (const room of this.#rooms.values()) if (room.ownerId === userId) owned++
    return owned
  }

  /** Records a room as the store has it now. */
  remember(room: RoomRecord): void {
    const previous = this.#rooms.get(room.id)
    if (previous && previous.channelId !== room.channelId)
      this.#byChannel.delete(previous.channelId)
    this.#unindex(previous)
    this.#rooms.set(room.id, room)
    this.#byChannel.set(room.channelId, room.id)
    if (room.code !== null) this.#byCode.set(room.code, room.id)
    for (const userId of membersOf(room)) {
      let rooms = this.#byUser.get(userId)
      if (!rooms) {
        rooms = new Set()
        this.#byUser.set(userId, rooms)
      }
      rooms.add(room.id)
    }
    this.#version.set(room.id, ++this.#clock)
    this.#announce(previous, room)
  }

  /** Drops a room the store no longer has. */
  forget(roomId: string): void {
    const room = this.#rooms.get(roomId)
    if (room && this.#byChannel.get(room.channelId) === roomId)
      this.#byChannel.delete(room.channelId)
    this.#unindex(room)
    this.#rooms.delete(roomId)
    this.#version.set(roomId, ++this.#clock)
    this.#announce(room, undefined)
  }

  /** Removes a room's code and members from the indexes (before it is replaced or dropped). */
  #unindex(room: RoomRecord | undefined): void {
    if (!room) return
    if (room.code !== null && this.#byCode.get(room.code) === room.id)
      this.#byCode.delete(room.code)
    for (const userId of membersOf(room)) {
      const rooms = this.#byUser.get(userId)
      rooms?.delete(room.id)
      if (rooms?.size === 0) this.#byUser.delete(userId)
    }
  }

  /** Tells the members of a room whose listing changed (created, closed, joined, left, …). */
  #announce(before: RoomRecord | undefined, after: RoomRecord | undefined): void {
    if (this.#userRoomsListeners.size === 0 || listingOf(before) === listingOf(after)) return
    const users = [...new Set([...membersOf(before), ...membersOf(after)])]
    for (const listener of this.#userRoomsListeners) {
      try {
        listener(users)
      } catch (error) {
        this.#logger.warn({ err: error }, 'a rooms-of-user listener failed')
      }
    }
  }
}
