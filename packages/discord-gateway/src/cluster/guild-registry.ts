import type { Redis } from 'ioredis'
import type { GuildPresence } from '../guilds/guild-voice'
import { pairsToObject } from './feed-codec'
import { READ_GUILDS } from './feed-scripts'
import type { GuildKeys } from './keys'
import { parseRegistry } from './leader-state'

/** The guild list as the shard leaders wrote it, read in one script. */
export interface GuildRegistry {
  readonly presences: GuildPresence[]
  /** Shards whose leader reported every guild of its READY settled, by `id:count`. */
  readonly settledShards: Map<string, boolean>
  /** The shard count in Redis (null while unknown or invalid). */
  readonly shardCount: number | null
}

/** Reads the registry, the shards' settled flags and the shard count. */
export async function readGuildRegistry(redis: Redis, keys: GuildKeys): Promise<GuildRegistry> {
  const [registry, shards, count] = (await READ_GUILDS.run(
    redis,
    [keys.registry, keys.shards, keys.shardCount],
    [],
  )) as [unknown, unknown, unknown]
  const n = Number(count)
  return {
    presences: parseRegistry(registry),
    settledShards: new Map(
      Object.entries(pairsToObject(shards)).map(([shard, settled]) => [shard, settled === '1']),
    ),
    shardCount: Number.isSafeInteger(n) && n > 0 ? n : null,
  }
}

/** True when the count is known and every shard of it reported its READY's guilds settled. */
export function allShardsSettled(
  settledShards: ReadonlyMap<string, boolean>,
  count: number | null,
): boolean {
  return (
    count !== null &&
    Array.from({ length: count }, (_, id) => settledShards.get(`${id}:${count}`)).every(Boolean)
  )
}
