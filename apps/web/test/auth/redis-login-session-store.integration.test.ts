import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SESSION_IDLE_MS } from '../../src/features/auth/login-session'
import { RedisLoginSessionStore } from '../../src/features/auth/redis-login-session-store.server'
import { loginSession, loginSessionStoreContract } from './login-session-store-contract'

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

let stores = 0
loginSessionStoreContract('redis', {
  async create() {
    // A prefix of its own per store: each starts empty; afterAll deletes them all.
    const storePrefix = `${prefix}${++stores}:`
    const connections: Redis[] = []
    const opened: RedisLoginSessionStore[] = []
    const open = () => {
      const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
      connections.push(connection)
      const store = new RedisLoginSessionStore(connection, storePrefix)
      opened.push(store)
      return store
    }
    const store = open()
    return {
      store,
      // Another node: its own connection on the same prefix.
      other: async () => open(),
      async reopen() {
        await store.close()
        return open()
      },
      async watching() {
        await Promise.all(opened.map((s) => s.watching()))
      },
      async dispose() {
        for (const s of opened) await s.close()
        for (const c of connections) await c.quit()
      },
    }
  },
})

describe('redis login session store', () => {
  it('keys expire with their sessions, and the user index outlives each of its sessions', async () => {
    const keyPrefix = `${prefix}ttl:`
    const store = new RedisLoginSessionStore(redis, keyPrefix)
    const now = Date.now()
    const userId = '100000000000000009'
    const long = loginSession(userId, {}, now)
    const short = loginSession(userId, { lastSeenAt: now - 1000, expiresAt: now + 60_000 }, now)
    await store.create(long, { maxPerUser: 10, now })
    await store.create(short, { maxPerUser: 10, now })
    const sessionTtl = await redis.pttl(`${keyPrefix}login-session:${short.id}`)
    expect(sessionTtl).toBeGreaterThan(50_000)
    expect(sessionTtl).toBeLessThanOrEqual(60_000)
    const indexTtl = () => redis.pttl(`${keyPrefix}user-login-sessions:${userId}`)
    expect(await indexTtl()).toBeGreaterThan(SESSION_IDLE_MS - 10_000)
    // Renewing the short one does not shorten the index below the long one.
    await store.update(short.id, now, (s) => ({ ...s, expiresAt: now + 120_000 }))
    expect(await redis.pttl(`${keyPrefix}login-session:${short.id}`)).toBeGreaterThan(110_000)
    expect(await indexTtl()).toBeGreaterThan(SESSION_IDLE_MS - 10_000)
    expect(await redis.smembers(`${keyPrefix}user-login-sessions:${userId}`)).toHaveLength(2)
    await store.endUser(userId)
    expect(await redis.keys(`${keyPrefix}*`)).toEqual([])
    await store.close()
  })

  it('a new session forgets index entries whose session expired', async () => {
    const keyPrefix = `${prefix}prune:`
    const store = new RedisLoginSessionStore(redis, keyPrefix)
    const now = Date.now()
    const userId = '100000000000000010'
    const gone = loginSession(userId, { expiresAt: now + 100 }, now)
    await store.create(gone, { maxPerUser: 10, now })
    await new Promise((done) => setTimeout(done, 200))
    await store.create(loginSession(userId), { maxPerUser: 10, now: Date.now() })
    expect(await redis.smembers(`${keyPrefix}user-login-sessions:${userId}`)).not.toContain(gone.id)
    await store.endUser(userId)
    await store.close()
  })
})
