import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisRoomStore } from '../../src/features/rooms/redis-room-store.server'
import { CachedRoomDirectory } from '../../src/features/rooms/room-directory.server'
import type { RoomStore } from '../../src/features/rooms/room-store'
import { roomRecord } from './room-fixtures'
import { roomStoreContract } from './room-store-contract'

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const prefix = `tv-test:${randomUUID()}:`
const GUILD = '100000000000000001'
let redis: Redis

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
})
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length) await redis.del(...keys)
  await redis.quit()
})

let stores = 0
roomStoreContract('redis', {
  watches: true,
  async create() {
    // A prefix of its own per store: each starts empty; afterAll deletes them all.
    const storePrefix = `${prefix}${++stores}:`
    const connections: Redis[] = []
    const open = () => {
      const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
      connections.push(connection)
      return new RedisRoomStore(connection, storePrefix)
    }
    const opened: RoomStore[] = []
    const track = (store: RedisRoomStore) => {
      opened.push(store)
      return store
    }
    const store = track(open())
    return {
      store,
      // Other connections, as other processes would write.
      handles: async (count) => Array.from({ length: count }, () => track(open())),
      async reopen() {
        await store.close()
        return track(open())
      },
      watching: () => store.watching(),
      async dispose() {
        await Promise.all(opened.map((s) => s.close()))
        await Promise.all(connections.map((c) => c.quit()))
      },
    }
  },
})

describe('RedisRoomStore (real Redis)', () => {
  it('stores, lists, mutates and deletes rooms under its prefix', async () => {
    const store = new RedisRoomStore(redis, prefix)
    const room = roomRecord()
    await store.insert(room)
    await expect(store.insert(room)).rejects.toThrow()
    expect((await store.get(room.id))?.name).toBe(room.name)
    expect((await store.list()).map((r) => r.id)).toContain(room.id)
    await store.mutate(room.id, (r) => ({
      next: r ? { ...r, name: 'renamed' } : null,
      result: null,
    }))
    expect((await store.get(room.id))?.name).toBe('renamed')
    await store.mutate(room.id, () => ({ next: null, result: null }))
    expect(await store.get(room.id)).toBeNull()
    expect((await store.list()).map((r) => r.id)).not.toContain(room.id)
  })

  it('tracks categories', async () => {
    const store = new RedisRoomStore(redis, prefix)
    await store.addCategory('300000000000000009', GUILD)
    expect(await store.listCategories(GUILD)).toEqual(['300000000000000009'])
    await store.removeCategory('300000000000000009')
    expect(await store.listCategories(GUILD)).toEqual([])
  })

  it('categories stored before guilds were recorded belong to the home guild', async () => {
    const storePrefix = `${prefix}legacy:`
    // As a store of one guild wrote them: ids in the set, no guild beside them.
    await redis.sadd(`${storePrefix}categories`, '300000000000000021', '300000000000000022')
    const store = new RedisRoomStore(redis, storePrefix, { homeGuildId: GUILD })
    await store.addCategory('300000000000000023', '100000000000000002')
    expect((await store.listCategories(GUILD)).sort()).toEqual([
      '300000000000000021',
      '300000000000000022',
    ])
    expect(await store.listCategories('100000000000000002')).toEqual(['300000000000000023'])
    // Without a home guild they belong to none.
    expect(await new RedisRoomStore(redis, storePrefix).listCategories(GUILD)).toEqual([])
  })

  it('restore: after the store lost its data, one node writes back the rooms it holds; otherwise nothing', async () => {
    const storePrefix = `${prefix}restore:`
    const store = new RedisRoomStore(redis, storePrefix)
    const other = new RedisRoomStore(redis, storePrefix)
    const a = roomRecord({ categoryId: '300000000000000001' })
    const b = roomRecord({ categoryId: '300000000000000002' })
    await store.insert(a)
    await store.insert(b)
    // The first call remembers the store's life; while it lasts nothing is written, whatever the
    // node holds (a room deleted since is not brought back).
    expect(await store.restore([])).toBe(0)
    expect(await other.restore([])).toBe(0)
    await store.mutate(b.id, () => ({ next: null, result: null }))
    expect(await store.restore([a, b, roomRecord()])).toBe(0)
    expect((await store.list()).map((r) => r.id)).toEqual([a.id])
    await store.insert(b)
    // Redis restarts empty: every key of the deployment is gone.
    const wipe = async () => redis.del(...(await redis.keys(`${storePrefix}*`)))
    await wipe()
    expect(await store.list()).toEqual([])
    const changed: (string | null)[] = []
    other.watch((roomId) => changed.push(roomId))
    await other.watching()
    expect(await store.restore([a, b])).toBe(2)
    expect((await other.list()).map((r) => r.id).sort()).toEqual([a.id, b.id].sort())
    expect((await other.listCategories(a.guildId)).sort()).toEqual(
      [a.categoryId, b.categoryId].sort(),
    )
    // Once for all nodes: the next node's copy (even a stale one) is not written again.
    expect(await other.restore([{ ...a, name: 'stale copy' }])).toBe(0)
    expect((await store.get(a.id))?.name).toBe(a.name)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(changed.sort()).toEqual([a.id, b.id].sort()) // the other nodes reload them
    // A node that started after another loss (a fresh life) does not keep the others from
    // writing their rooms back.
    await wipe()
    const late = new RedisRoomStore(redis, storePrefix)
    expect(await late.restore([])).toBe(0)
    expect(await store.restore([a, b])).toBe(2)
    expect(await late.restore([])).toBe(0)
    await store.close()
    await other.close()
    await late.close()
  })

  it('a node holding rooms gives them back to a store that lost its data when it refreshes', async () => {
    const storePrefix = `${prefix}directory:`
    const store = new RedisRoomStore(redis, storePrefix)
    const directory = new CachedRoomDirectory({ store, logger: pino({ level: 'silent' }) })
    const room = roomRecord()
    await store.insert(room)
    await directory.start()
    expect(directory.roomForChannel(room.channelId)).toBe(room.id)
    await redis.del(...(await redis.keys(`${storePrefix}*`)))
    await directory.refresh()
    expect(directory.roomForChannel(room.channelId)).toBe(room.id)
    expect(await store.get(room.id)).toEqual(room)
    directory.stop()
    await store.close()
  })
})
