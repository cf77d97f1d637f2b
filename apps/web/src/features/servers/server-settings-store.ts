import type { StoredServerSettings } from '@repo/discord-integration/contracts'

/**
 * Where community servers' room settings live, beside the rooms: `FileServerSettingsStore` (one
 * node, DATA_DIR/server-settings.json) or `RedisServerSettingsStore` (several nodes, one hash).
 * `test/servers/server-settings-store-contract.ts` is the behaviour both must have. A save
 * replaces a server's settings whole (the last save wins) and is seen by every node at once.
 */
export interface ServerSettingsStore {
  /** A server's saved settings, or null until its managers save some. */
  get(guildId: string): Promise<StoredServerSettings | null>
  /** The saved settings of those of `guildIds` that have some. */
  getMany(guildIds: readonly string[]): Promise<Map<string, StoredServerSettings>>
  /** Saves a server's settings, replacing what was there. */
  save(settings: StoredServerSettings): Promise<void>
  /** Flushes pending writes and releases what the store opened itself. */
  close(): Promise<void>
}
