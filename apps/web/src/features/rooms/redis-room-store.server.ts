import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { RedisChannelWatch } from '../../server/redis-channel-watch.server'
import {
  type InsertOptions,
  type InsertResult,
  type Mutation,
  type RoomRecord,
  RoomRecordSchema,
  type RoomStore,
  type StoreGuildOptions,
} from './room-store'

/**
 * Compare-and-set in one Lua call: writes (or deletes, when ARGV[2] is empty)
 * only if the stored value still equals ARGV[1] (empty = absent). Keeps the
 * room index set in step and announces the change on the `rooms:changed`
 * channel (ARGV[4]) so other processes reload the room. Returns 1 on success,
 * 0 on conflict.
 */
const CAS_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == false then current = '' end
if current ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
end
redis.call('PUBLISH', ARGV[4], ARGV[3])
return 1
`

/**
 * Insert in one Lua call: refuses an existing id (-1) and, with a cap (ARGV[4] >= 0), a room whose
 * owner (ARGV[3]) already owns that many rooms (0); otherwise writes, indexes and announces it like
 * CAS_SCRIPT (1). The owner count reads every room under the index (ARGV[5] is the room key
 * prefix): rooms are Discord channels, at most 500 in a guild, and inserts are rare, so a scan
 * inside the script costs little and needs no owner index to keep in step on every write.
 */
const INSERT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local cap = tonumber(ARGV[4])
if cap >= 0 then
  local owned = 0
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    local raw = redis.call('GET', ARGV[5] .. id)
    if raw and cjson.decode(raw).ownerId == ARGV[3] then owned = owned + 1 end
  end
  if owned >= cap then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[6], ARGV[2])
return 1
`

/**
 * The store's life: a marker key that exists as long as Redis holds this store's data. Its value
 * is `fresh:<id>` when a node started with no earlier life to go on (a new deployment, or a
 * node that started after Redis lost the data), `restored:<id>` once a node wrote its rooms back
 * after a loss. KEYS: marker. ARGV: a fresh id. Returns the current marker (set if missing).
 */
const JOIN_LIFE_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
`

/**
 * Writes back rooms after the store lost its data. KEYS: marker, index, categories, category
 * guilds. ARGV: the life this node knows, a new `restored:` id, room key prefix, changes channel,
 * then (id, json, categoryId, guildId) per room. Nothing is written while the marker is the known life, or when
 * another node already restored (`restored:` of another life): {-1, marker}. Otherwise (the
 * marker is gone, or a node began a fresh life after the loss) every room absent from the store
 * is written (SET NX), indexed with its category and announced, and the marker becomes the new
 * `restored:` id: {written, marker}.
 */
const RESTORE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then return {-1, current} end
if current and string.sub(current, 1, 9) == 'restored:' then return {-1, current} end
local written = 0
for i = 5, #ARGV, 4 do
  if redis.call('SET', ARGV[3] .. ARGV[i], ARGV[i + 1], 'NX') then
    redis.call('SADD', KEYS[2], ARGV[i])
    if ARGV[i + 2] ~= '' then
      redis.call('SADD', KEYS[3], ARGV[i + 2])
      redis.call('HSET', KEYS[4], ARGV[i + 2], ARGV[i + 3])
    end
    redis.call('PUBLISH', ARGV[4], ARGV[i])
    written = written + 1
  end
end
redis.call('SET', KEYS[1], ARGV[2])
return {written, ARGV[2]}
`

const MAX_CAS_ATTEMPTS = 50

/**
 * The multi-node store: one JSON value per room under `${prefix}room:{id}`, an
 * index set `${prefix}rooms`, `${prefix}categories` and each category's guild in the hash
 * `${prefix}categories:guild` (a category missing there belongs to the home guild). Mutations are optimistic
 * compare-and-set (Lua), retried on conflict, so the 4-player check stays atomic
 * across processes; an insert counts its owner's rooms in the same Lua call as its write. Every successful write or delete is published (the room id)
 * on `${prefix}rooms:changed`; {@link RedisRoomStore.watch} listens to it.
 */
export class RedisRoomStore implements RoomStore {
  readonly #redis: Redis
  readonly #prefix: string
  #watch: RedisChannelWatch<string> | null = null
  /** The store's life this node knows (see restore), null before the first call. */
  #life: string | null = null

  readonly #homeGuildId: string

  constructor(redis: Redis, prefix = 'tv:', options: StoreGuildOptions = {}) {
    this.#redis = redis
    this.#prefix = prefix
    this.#homeGuildId = options.homeGuildId ?? ''
  }

  #roomKey(id: string): string {
    return `${this.#prefix}room:${id}`
  }
  get #indexKey(): string {
    return `${this.#prefix}rooms`
  }
  get #categoriesKey(): string {
    return `${this.#prefix}categories`
  }
  get #categoryGuildsKey(): string {
    return `${this.#prefix}categories:guild`
  }
  /** The pub/sub channel of change notifications. */
  get changesChannel(): string {
    return `${this.#prefix}rooms:changed`
  }

  async get(roomId: string): Promise<RoomRecord | null> {
    const raw = await this.#redis.get(this.#roomKey(roomId))
    return raw === null ? null : RoomRecordSchema.parse(JSON.parse(raw))
  }

  async list(): Promise<RoomRecord[]> {
    const ids = await this.#redis.smembers(this.#indexKey)
    if (ids.length === 0) return []
    const values = await this.#redis.mget(...ids.map((id) => this.#roomKey(id)))
    return values.flatMap((raw) => (raw === null ? [] : [RoomRecordSchema.parse(JSON.parse(raw))]))
  }

  async insert(room: RoomRecord, options: InsertOptions = {}): Promise<InsertResult> {
    const result = await this.#redis.eval(
      INSERT_SCRIPT,
      2,
      this.#roomKey(room.id),
      this.#indexKey,
      JSON.stringify(room),
      room.id,
      room.ownerId,
      options.maxRoomsPerOwner ?? -1,
      this.#roomKey(''),
      this.changesChannel,
    )
    if (result === -1) throw new Error(`room ${room.id} exists`)
    return result === 1 ? 'inserted' : 'owner_cap'
  }

  async mutate<T>(roomId: string, fn: (room: RoomRecord | null) => Mutation<T>): Promise<T> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = (await this.#redis.get(this.#roomKey(roomId))) ?? ''
      const current = raw === '' ? null : RoomRecordSchema.parse(JSON.parse(raw))
      const mutation = fn(current)
      if (mutation.next === undefined) return mutation.result
      if (mutation.next === null && raw === '') return mutation.result
      const next = mutation.next === null ? '' : JSON.stringify(mutation.next)
      if (await this.#cas(roomId, raw, next)) return mutation.result
    }
    throw new Error(`room ${roomId}: too many concurrent updates`)
  }

  async #cas(roomId: string, expected: string, next: string): Promise<boolean> {
    const result = await this.#redis.eval(
      CAS_SCRIPT,
      2,
      this.#roomKey(roomId),
      this.#indexKey,
      expected,
      next,
      roomId,
      this.changesChannel,
    )
    return result === 1
  }

  /**
   * Calls `listener` with the id of every room written or deleted through any
   * RedisRoomStore on the same prefix, and with null after the subscriber
   * connection (re)connected, since notifications may have been lost meanwhile.
   * One subscriber connection (a duplicate of the client) serves all watchers.
   */
  watch(listener: (roomId: string | null) => void): () => void {
    this.#watch ??= new RedisChannelWatch(this.#redis, this.changesChannel, (roomId) => roomId)
    return this.#watch.add(listener)
  }

  /** Resolves once the change subscription is acknowledged (tests, start-up). */
  watching(): Promise<void> {
    return this.#watch?.subscribed() ?? Promise.resolve()
  }

  async restore(rooms: readonly RoomRecord[]): Promise<number> {
    const marker = `${this.#prefix}rooms:life`
    if (this.#life === null) {
      this.#life = String(
        await this.#redis.eval(JOIN_LIFE_SCRIPT, 1, marker, `fresh:${randomUUID()}`),
      )
      return 0
    }
    const args = rooms.flatMap((room) => [
      room.id,
      JSON.stringify(room),
      room.categoryId,
      room.guildId,
    ])
    const [written, life] = (await this.#redis.eval(
      RESTORE_SCRIPT,
      4,
      marker,
      this.#indexKey,
      this.#categoriesKey,
      this.#categoryGuildsKey,
      this.#life,
      `restored:${randomUUID()}`,
      this.#roomKey(''),
      this.changesChannel,
      ...args,
    )) as [number, string]
    this.#life = life
    return Math.max(0, Number(written))
  }

  async listCategories(guildId: string): Promise<string[]> {
    const ids = await this.#redis.smembers(this.#categoriesKey)
    if (ids.length === 0) return []
    const guilds = await this.#redis.hmget(this.#categoryGuildsKey, ...ids)
    return ids.filter((_, i) => (guilds[i] ?? this.#homeGuildId) === guildId)
  }

  async addCategory(categoryId: string, guildId: string): Promise<void> {
    await this.#redis
      .multi()
      .hset(this.#categoryGuildsKey, categoryId, guildId)
      .sadd(this.#categoriesKey, categoryId)
      .exec()
  }

  async removeCategory(categoryId: string): Promise<void> {
    await this.#redis
      .multi()
      .srem(this.#categoriesKey, categoryId)
      .hdel(this.#categoryGuildsKey, categoryId)
      .exec()
  }

  async close(): Promise<void> {
    // The main connection belongs to the caller; the subscriber is ours.
    this.#watch?.close()
    this.#watch = null
  }
}
