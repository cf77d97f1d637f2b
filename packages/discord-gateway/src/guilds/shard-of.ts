/** The shard a guild's events go to: `(guild_id >> 22) % num_shards` (Discord, "Sharding"). */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount))
}
