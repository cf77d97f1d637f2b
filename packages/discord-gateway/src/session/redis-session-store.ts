import type { Redis } from 'ioredis'
import type { PersistedGateway } from './persisted-gateway'
import { PersistedGatewaySchema } from './persisted-gateway'
import type { GatewaySessionStore } from './session-store'

/** Stores the value as JSON under one Redis key (shared by the nodes that may take over the gateway). */
export class RedisSessionStore implements GatewaySessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async load(): Promise<PersistedGateway | null> {
    const text = await this.redis.get(this.key)
    if (text === null) return null
    try {
      const parsed = PersistedGatewaySchema.safeParse(JSON.parse(text))
      return parsed.success ? parsed.data : null
    } catch {
      return null
    }
  }

  async save(value: PersistedGateway): Promise<void> {
    await this.redis.set(this.key, JSON.stringify(value))
  }

  async clear(): Promise<void> {
    await this.redis.del(this.key)
  }
}
