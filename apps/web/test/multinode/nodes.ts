import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { RedisRoomStore } from '../../src/features/rooms/redis-room-store.server'
import type { RoomService, RoomServiceOptions } from '../../src/features/rooms/room-service.server'
import { makeService, type RecordingEvents, type World } from '../rooms/harness'
import type { ManualClock } from '../support/manual-clock'

/** The Redis the tests use: REDIS_TEST_URL (scripts/test.sh sets it), else the local default. */
export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'

/** A unique key prefix per test run, and a way to delete everything under it. */
export function testPrefix(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `tv-multinode:${randomUUID()}:`
  return {
    prefix,
    async cleanup() {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length) await redis.del(...keys)
      await redis.quit()
    },
  }
}

/** One "node": its own Redis connection, store instance, events and RoomService on a shared prefix. */
export interface Node {
  redis: Redis
  store: RedisRoomStore
  events: RecordingEvents
  service: RoomService
  close(): Promise<void>
}

export async function startNode(
  world: World,
  prefix: string,
  clock: ManualClock,
  overrides: Partial<RoomServiceOptions> = {},
): Promise<Node> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  const store = new RedisRoomStore(redis, prefix)
  const { service, events } = makeService(world, { store, ...overrides }, clock)
  await service.start()
  await store.watching()
  return {
    redis,
    store,
    events,
    service,
    async close() {
      service.stop()
      await store.close()
      await redis.quit()
    },
  }
}
