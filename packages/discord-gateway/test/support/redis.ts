import type { RedisServer, RedisServerOptions } from '@repo/process-harness'
import { startRedisServer } from '@repo/process-harness'
import type { RedisOptions } from 'ioredis'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'

/**
 * A redis-server of this test file's own (a free port, no persistence), emptied before each test,
 * and ioredis clients that are closed after each test.
 */
export function useRedisServer(options: RedisServerOptions = {}): {
  readonly server: RedisServer
  readonly url: string
  /** A client on the test server (closed after the test). */
  client(options?: RedisOptions): Redis
} {
  let server: RedisServer | null = null
  const clients: Redis[] = []
  beforeAll(async () => {
    server = await startRedisServer(options)
  })
  afterAll(async () => {
    await server?.stop()
  })
  beforeEach(async () => {
    const admin = new Redis(server?.url ?? '', { maxRetriesPerRequest: 1 })
    await admin.flushall()
    admin.disconnect()
  })
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect()
  })
  return {
    get server() {
      if (!server) throw new Error('redis-server not started')
      return server
    },
    get url() {
      if (!server) throw new Error('redis-server not started')
      return server.url
    },
    client(options: RedisOptions = {}) {
      if (!server) throw new Error('redis-server not started')
      const client = new Redis(server.url, { maxRetriesPerRequest: 1, ...options })
      clients.push(client)
      return client
    },
  }
}
