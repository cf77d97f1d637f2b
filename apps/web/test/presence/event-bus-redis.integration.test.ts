import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisEventBus } from '../../src/features/presence/redis-event-bus.server'
import { eventBusContract, roomId, testClock, until } from './bus-contract'

const url = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const prefix = `test:presence:${randomUUID()}:`
const admin = new Redis(url)

afterAll(async () => {
  const keys = await admin.keys(`${prefix}*`)
  if (keys.length > 0) await admin.del(...keys)
  admin.disconnect()
})

eventBusContract('redis', {
  create: async (clock) =>
    createRedisEventBus({
      redis: url,
      keyPrefix: prefix,
      now: clock.now,
      history: { maxFrames: 5, maxAgeMs: 10_000 },
    }),
})

describe('redis event bus', () => {
  it('delivers the first frame to a subscription made right after the bus was created', async () => {
    const publisher = createRedisEventBus({ redis: url, keyPrefix: prefix })
    let missed = 0
    for (let i = 0; i < 15; i++) {
      const bus = createRedisEventBus({ redis: url, keyPrefix: prefix })
      const room = roomId()
      const got: number[] = []
      const subscription = bus.subscribe(room, (f) => got.push(f.frame.seq))
      await subscription.ready
      await publisher.publish(room, { type: 'room.closing', closesAt: 1 })
      await until(() => got.length > 0, 1000).catch(() => undefined)
      if (got.length !== 1) missed++
      await bus.close()
    }
    await publisher.close()
    expect(missed).toBe(0)
  })

  it('ignores a foreign, malformed message on its channel and keeps delivering', async () => {
    const bus = createRedisEventBus({ redis: url, keyPrefix: prefix })
    const room = roomId()
    const got: number[] = []
    const subscription = bus.subscribe(room, (f) => got.push(f.frame.seq))
    await subscription.ready
    await admin.publish(`${prefix}room:${room}`, 'not json {')
    await bus.publish(room, { type: 'room.closing', closesAt: 1 })
    await until(() => got.length === 1)
    expect(got).toEqual([1])
    await bus.close()
  })

  it('shares one stream between two processes’ buses and starts a new epoch when Redis lost it', async () => {
    const clock = testClock()
    const one = createRedisEventBus({ redis: url, keyPrefix: prefix, now: clock.now })
    const two = createRedisEventBus({ redis: url, keyPrefix: prefix, now: clock.now })
    const room = roomId()
    const seen: number[] = []
    const subscription = two.subscribe(room, (f) => seen.push(f.frame.seq))
    await subscription.ready
    const body = {
      type: 'room.closing',
      closesAt: 5,
    } as const
    await one.publish(room, body)
    await two.publish(room, body)
    const before = await one.position(room)
    expect(before.seq).toBe(2)
    await until(() => seen.length >= 2)
    expect(seen).toEqual([1, 2])
    // Redis loses the stream (flush, eviction, expiry): a new life begins, old positions are void.
    await admin.del(`${prefix}room:${room}:epoch`)
    const after = await one.position(room)
    expect(after.epoch).not.toBe(before.epoch)
    expect(after.seq).toBe(0)
    expect(await one.history(room, 2, before.epoch)).toMatchObject({ ok: false, reason: 'epoch' })
    subscription.unsubscribe()
    await one.close()
    await two.close()
  })
})
