import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisRoomStore } from '../../src/features/rooms/redis-room-store.server'
import { roomRecord, takeSeat } from './room-fixtures'

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const prefix = `tv-test:${randomUUID()}:`
let redis: Redis

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
})
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length) await redis.del(...keys)
  await redis.quit()
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

  it('keeps the four-seat check atomic across connections: 5 joins into 3 -> one seat', async () => {
    const connections = Array.from({ length: 5 }, () => new Redis(REDIS_URL))
    try {
      const room = roomRecord({
        players: ['1', '2', '3'].map((i) => ({
          userId: `40000000000000000${i}`,
          username: `p${i}`,
          globalName: null,
          avatar: null,
          joinedAt: 1,
        })),
      })
      await new RedisRoomStore(redis, prefix).insert(room)
      const results = await Promise.all(
        connections.map((conn, i) =>
          new RedisRoomStore(conn, prefix).mutate(room.id, takeSeat(`50000000000000000${i}`)),
        ),
      )
      expect(results.filter((r) => r === 'added')).toHaveLength(1)
      expect(results.filter((r) => r === 'full')).toHaveLength(4)
      expect((await new RedisRoomStore(redis, prefix).get(room.id))?.players).toHaveLength(4)
    } finally {
      await Promise.all(connections.map((c) => c.quit()))
    }
  })

  it('tracks categories', async () => {
    const store = new RedisRoomStore(redis, prefix)
    await store.addCategory('300000000000000009')
    expect(await store.listCategories()).toEqual(['300000000000000009'])
    await store.removeCategory('300000000000000009')
    expect(await store.listCategories()).toEqual([])
  })
})
