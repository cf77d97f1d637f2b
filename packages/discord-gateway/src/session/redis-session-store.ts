import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { PersistedGateway } from './persisted-gateway'
import { parsePersistedGateway, persistedJsonChunks } from './persisted-gateway'
import type { GatewaySessionStore } from './session-store'

/** How long a half-written value may linger if the process dies mid-save. */
const PARTIAL_TTL_MS = 5 * 60_000

/**
 * Stores the value as JSON under one Redis key (shared by the nodes that may take over the gateway).
 * The JSON is built up in a temporary key, piece by piece (see persistedJsonChunks), and renamed
 * over the real key in one step, so readers see the old value or the new one, never a part.
 */
export class RedisSessionStore implements GatewaySessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async load(): Promise<PersistedGateway | null> {
    const text = await this.redis.get(this.key)
    return text === null ? null : parsePersistedGateway(text)
  }

  async save(value: PersistedGateway): Promise<void> {
    const partial = `${this.key}:partial:${randomUUID()}`
    try {
      let first = true
      for await (const chunk of persistedJsonChunks(value)) {
        if (first) await this.redis.set(partial, chunk, 'PX', PARTIAL_TTL_MS)
        else await this.redis.append(partial, chunk)
        first = false
      }
      // RENAME carries the partial key's TTL over: drop it in the same transaction.
      await this.redis.multi().rename(partial, this.key).persist(this.key).exec()
    } catch (error) {
      await this.redis.del(partial).catch(() => undefined)
      throw error
    }
  }

  async clear(): Promise<void> {
    await this.redis.del(this.key)
  }
}
