import {
  type StoredServerSettings,
  StoredServerSettingsSchema,
} from '@repo/discord-integration/contracts'
import type { Redis } from 'ioredis'
import type { ServerSettingsStore } from './server-settings-store'

/**
 * The several-node settings store: one Redis hash, `<prefix>server-settings`, field = guild id,
 * value = the settings as JSON. Every node reads it directly (a save is seen everywhere at once);
 * a value that does not parse reads as none (the defaults) until the next save replaces it. The
 * connection is the runtime's, closed by it.
 */
export class RedisServerSettingsStore implements ServerSettingsStore {
  readonly #redis: Redis
  readonly #key: string

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis
    this.#key = `${prefix}server-settings`
  }

  async get(guildId: string): Promise<StoredServerSettings | null> {
    return parse(await this.#redis.hget(this.#key, guildId))
  }

  async getMany(guildIds: readonly string[]): Promise<Map<string, StoredServerSettings>> {
    const found = new Map<string, StoredServerSettings>()
    if (guildIds.length === 0) return found
    const values = await this.#redis.hmget(this.#key, ...guildIds)
    guildIds.forEach((id, i) => {
      const settings = parse(values[i] ?? null)
      if (settings && settings.guildId === id) found.set(id, settings)
    })
    return found
  }

  async save(settings: StoredServerSettings): Promise<void> {
    const valid = StoredServerSettingsSchema.parse(settings)
    await this.#redis.hset(this.#key, valid.guildId, JSON.stringify(valid))
  }

  async close(): Promise<void> {}
}

function parse(raw: string | null): StoredServerSettings | null {
  if (raw === null) return null
  try {
    const parsed = StoredServerSettingsSchema.safeParse(JSON.parse(raw))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
