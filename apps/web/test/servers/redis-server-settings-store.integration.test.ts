import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisServerSettingsStore } from '../../src/features/servers/redis-server-settings-store.server'
import {
  guildId,
  serverSettingsStoreContract,
  storedSettings,
} from './server-settings-store-contract'

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
serverSettingsStoreContract('redis', {
  async create() {
    // A prefix of its own per store: each starts empty; afterAll deletes them all.
    const storePrefix = `${prefix}${++stores}:`
    const connections: Redis[] = []
    const open = () => {
      const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
      connections.push(connection)
      return new RedisServerSettingsStore(connection, storePrefix)
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
      async dispose() {
        for (const c of connections) await c.quit()
      },
    }
  },
})

describe('redis server settings store', () => {
  it('keeps one hash field per server under the prefix; a damaged value reads as no settings', async () => {
    const storePrefix = `${prefix}layout:`
    const store = new RedisServerSettingsStore(redis, storePrefix)
    const g = guildId()
    const settings = storedSettings(g)
    await store.save(settings)
    expect(JSON.parse((await redis.hget(`${storePrefix}server-settings`, g)) ?? '')).toEqual(
      settings,
    )
    await redis.hset(`${storePrefix}server-settings`, g, '{not json')
    expect(await store.get(g)).toBeNull()
    expect((await store.getMany([g])).size).toBe(0)
  })
})
