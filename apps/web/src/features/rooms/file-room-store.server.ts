import { CoalescedFileWriter, jsonArrayChunks, readJsonFile } from '@repo/file-persistence'
import { z } from 'zod'
import {
  type InsertOptions,
  type InsertResult,
  type Mutation,
  type RoomRecord,
  RoomRecordSchema,
  type RoomStore,
  type StoreGuildOptions,
} from './room-store'

const FileSchema = z.object({
  version: z.literal(1),
  rooms: z.array(RoomRecordSchema),
  categories: z.array(z.string()),
  /** Category id → its guild; a category missing here belongs to the home guild. */
  categoryGuilds: z.record(z.string(), z.string()).default({}),
})

/**
 * The embedded single-node store: everything in memory, persisted to one JSON
 * file after every change with an atomic write (temp file + rename). Mutations
 * run synchronously on the in-memory copy, so they are atomic within the process.
 * Writes are serialised and coalesced: at most one write is on its way and one
 * waits behind it, and the waiting one serialises the state only when it starts,
 * so a burst of changes costs two writes and two copies of the file, not one each.
 * The JSON is produced in pieces of a few hundred rooms with a turn of the event loop between
 * them, so a large file never stalls the frames in flight.
 */
export class FileRoomStore implements RoomStore {
  readonly #path: string
  readonly #rooms = new Map<string, RoomRecord>()
  /** Category id → its guild ('' when unknown: stored without one and no home guild). */
  readonly #categories = new Map<string, string>()
  readonly #homeGuildId: string
  readonly #file: CoalescedFileWriter
  #loaded: Promise<void> | null = null

  constructor(path: string, options: StoreGuildOptions = {}) {
    this.#path = path
    this.#homeGuildId = options.homeGuildId ?? ''
    this.#file = new CoalescedFileWriter(path, () => this.#text())
  }

  /** Loads the file (once). A missing file is an empty store. */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      const data = await readJsonFile(this.#path, (value) => FileSchema.parse(value))
      if (!data) return
      for (const room of data.rooms) this.#rooms.set(room.id, room)
      for (const id of data.categories) {
        this.#categories.set(id, data.categoryGuilds[id] ?? this.#homeGuildId)
      }
    })()
    return this.#loaded
  }

  async get(roomId: string): Promise<RoomRecord | null> {
    await this.load()
    return this.#rooms.get(roomId) ?? null
  }

  async list(): Promise<RoomRecord[]> {
    await this.load()
    return [...this.#rooms.values()]
  }

  async insert(room: RoomRecord, options: InsertOptions = {}): Promise<InsertResult> {
    await this.load()
    if (this.#rooms.has(room.id)) throw new Error(`room ${room.id} exists`)
    // Counted and written in one synchronous step: no other change can slip in between.
    const cap = options.maxRoomsPerOwner
    if (cap !== undefined && this.#ownedBy(room.ownerId) >= cap) return 'owner_cap'
    this.#rooms.set(room.id, room)
    await this.#file.persist()
    return 'inserted'
  }

  /** Rooms `ownerId` owns (a scan: the guild's 500 channels bound the rooms). */
  #ownedBy(ownerId: string): number {
    let owned = 0
    for (const room of this.#rooms.values()) if (room.ownerId === ownerId) owned++
    return owned
  }

  async mutate<T>(roomId: string, fn: (room: RoomRecord | null) => Mutation<T>): Promise<T> {
    await this.load()
    const mutation = fn(this.#rooms.get(roomId) ?? null)
    if (mutation.next === undefined) return mutation.result
    if (mutation.next === null) this.#rooms.delete(roomId)
    else this.#rooms.set(roomId, mutation.next)
    await this.#file.persist()
    return mutation.result
  }

  async listCategories(guildId: string): Promise<string[]> {
    await this.load()
    return [...this.#categories].flatMap(([id, guild]) => (guild === guildId ? [id] : []))
  }

  async addCategory(categoryId: string, guildId: string): Promise<void> {
    await this.load()
    this.#categories.set(categoryId, guildId)
    await this.#file.persist()
  }

  async removeCategory(categoryId: string): Promise<void> {
    await this.load()
    if (this.#categories.delete(categoryId)) await this.#file.persist()
  }

  async close(): Promise<void> {
    await this.#file.flush()
  }

  /** How many times the file was written (for tests). */
  get writes(): number {
    return this.#file.writes
  }

  /**
   * The file's text, taken when a write starts: copies of the collections, consistent while
   * they are serialised piece by piece since records are replaced on change, never mutated.
   */
  #text(): AsyncIterable<string> {
    const rooms = [...this.#rooms.values()]
    const categories = [...this.#categories.keys()]
    const categoryGuilds = Object.fromEntries(
      [...this.#categories].filter(([, guildId]) => guildId !== ''),
    )
    return (async function* () {
      yield '{"version":1,"rooms":['
      yield* jsonArrayChunks(rooms)
      yield `],"categories":${JSON.stringify(categories)},"categoryGuilds":${JSON.stringify(categoryGuilds)}}`
    })()
  }
}
