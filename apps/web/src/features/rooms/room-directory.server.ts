import type { Logger } from 'pino'
import type { RoomAccess, RoomDirectory } from '../../server/ports'
import type { RoomRecord, RoomStore } from './room-store'
import { roomState } from './room-view'

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
  /** Open rooms by id, and by voice channel id. */
  readonly #rooms = new Map<string, RoomRecord>()
  readonly #byChannel = new Map<string, string>()
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
    if (!room?.players.some((p) => p.userId === userId)) return null
    return { channelId: room.channelId, state: roomState(room) }
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
    this.#rooms.set(room.id, room)
    this.#byChannel.set(room.channelId, room.id)
    this.#version.set(room.id, ++this.#clock)
  }

  /** Drops a room the store no longer has. */
  forget(roomId: string): void {
    const room = this.#rooms.get(roomId)
    if (room && this.#byChannel.get(room.channelId) === roomId)
      this.#byChannel.delete(room.channelId)
    this.#rooms.delete(roomId)
    this.#version.set(roomId, ++this.#clock)
  }
}
