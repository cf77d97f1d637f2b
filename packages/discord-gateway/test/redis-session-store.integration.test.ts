import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import type { PersistedGateway } from '../src/session/persisted-gateway'
import { RedisSessionStore } from '../src/session/redis-session-store'
import { GUILD } from './support/dispatch'
import { asV1, large } from './support/persisted'

const redis = new Redis(process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379', {
  lazyConnect: true,
  maxRetriesPerRequest: 1,
})
afterAll(async () => {
  await redis.quit()
})

const value: PersistedGateway = {
  v: 1,
  guildId: GUILD,
  savedAt: 1,
  session: { sessionId: 's', sequence: 3, resumeURL: 'ws://x/resume', shardId: 0, shardCount: 1 },
  voice: { sessionId: 's', seq: 3, feedSeq: 2, synced: true, members: [], profiles: [] },
}

describe('RedisSessionStore', () => {
  it('round-trips, ignores garbage and clears', async () => {
    const key = `test:gateway-session:${process.pid}:${Date.now()}`
    const store = new RedisSessionStore(redis, key)
    expect(await store.load()).toBeNull()
    await store.save(value)
    expect(await store.load()).toEqual(value)
    await redis.set(key, '{"v":2}')
    expect(await store.load()).toBeNull()
    await store.clear()
    expect(await redis.exists(key)).toBe(0)
  })

  it('builds a large value in a temporary key and swaps it in whole, with no expiry left behind', async () => {
    const key = `test:gateway-session:${process.pid}:${Date.now()}:large`
    const store = new RedisSessionStore(redis, key)
    await store.save(value)
    const big = large(5_000)
    const saving = store.save(big)
    // While the new value is being built, readers still get the old one whole.
    let sawOld = false
    while (!(await redis.keys(`${key}:partial:*`)).length) await new Promise((r) => setImmediate(r))
    sawOld = asV1(await store.load())?.voice.members.length === 0
    await saving
    expect(sawOld).toBe(true)
    expect(await store.load()).toEqual(big)
    expect(await redis.pttl(key)).toBe(-1)
    expect(await redis.keys(`${key}:partial:*`)).toEqual([])
    await store.clear()
  })
})
