/*
 * Discord's sharding rules (docs events/gateway "Sharding", "Max Concurrency"; docs
 * topics/opcodes-and-status-codes 4010 / 4011).
 */

/** Discord's limit of guilds per shard ("Each shard can only support a maximum of 2500 guilds"). */
export const DISCORD_GUILDS_PER_SHARD = 2500

/** The sharding rules the emulated gateway applies. Mutable at run time through the control API. */
export interface ShardingConfig {
  /** Most guilds one session may hold; an IDENTIFY that would hold more closes 4011. */
  guildsPerShard: number
  /** `session_start_limit.max_concurrency`: identify buckets (`shard_id % max_concurrency`). */
  maxConcurrency: number
}

/** The shard that receives a guild's events: `shard_id = (guild_id >> 22) % num_shards`. */
export function shardOf(guildId: string, numShards: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(numShards))
}

/** The identify rate-limit bucket of a shard: `rate_limit_key = shard_id % max_concurrency`. */
export function identifyBucket(shardId: number, maxConcurrency: number): number {
  return shardId % maxConcurrency
}

/** How many of `guildIds` the shard `[id, count]` would hold. */
export function guildsOnShard(guildIds: readonly string[], shard: readonly [number, number]) {
  return guildIds.filter((g) => shardOf(g, shard[1]) === shard[0]).length
}

/** Whether `[id, count]` is a shard Discord accepts (else close 4010). */
export function isValidShard(shard: readonly [number, number]): boolean {
  const [id, count] = shard
  return Number.isInteger(id) && Number.isInteger(count) && count >= 1 && id >= 0 && id < count
}

/** Search bound for the recommendation (Discord's own counts are far below it for test worlds). */
const MAX_RECOMMENDED = 4096

/**
 * `GET /gateway/bot`'s `shards`: at least `max(1, ceil(guilds / guildsPerShard))`, and the smallest
 * count from there on under which no shard holds more than `guildsPerShard` guilds, so that
 * connecting with the recommendation never gets 4011. With ids spread over time as Discord's are
 * (and as the emulator mints them), that is `ceil(guilds / guildsPerShard)` itself.
 */
export function recommendedShards(guildIds: readonly string[], guildsPerShard: number): number {
  const base = Math.max(1, Math.ceil(guildIds.length / guildsPerShard))
  for (let n = base; n <= Math.max(base, MAX_RECOMMENDED); n++) {
    const counts = new Map<number, number>()
    let fits = true
    for (const g of guildIds) {
      const s = shardOf(g, n)
      const c = (counts.get(s) ?? 0) + 1
      counts.set(s, c)
      if (c > guildsPerShard) {
        fits = false
        break
      }
    }
    if (fits) return n
  }
  return base
}
