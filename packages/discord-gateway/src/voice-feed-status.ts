import type { GatewayStatus } from './gateway-status'
import { combineStatus } from './gateway-status'
import type { GuildPresence, ShardStatus } from './guilds/guild-voice'

/** The gateway status of the whole feed (its least ready shard's state) and of each shard. */
export interface VoiceFeedStatus extends GatewayStatus {
  shards: ShardStatus[]
  /** Reshards after a close 4011 (sharding required) since start. */
  reshards: number
}

/**
 * The feed's status from its shards (`[id, count]` each, with its gateway status at the same
 * index of `perShard`) and its guilds (counted per shard).
 */
export function voiceFeedStatus(
  shards: readonly { readonly id: number; readonly count: number }[],
  perShard: readonly GatewayStatus[],
  guilds: readonly GuildPresence[],
  reshards: number,
): VoiceFeedStatus {
  const count = new Map<number, { guilds: number; unavailable: number }>()
  for (const guild of guilds) {
    const c = count.get(guild.shardId) ?? { guilds: 0, unavailable: 0 }
    c.guilds++
    if (!guild.available) c.unavailable++
    count.set(guild.shardId, c)
  }
  return {
    ...combineStatus(perShard),
    reshards,
    shards: shards.map((s, i) => ({
      id: s.id,
      count: s.count,
      state: perShard[i]?.state ?? 'idle',
      guilds: count.get(s.id)?.guilds ?? 0,
      unavailableGuilds: count.get(s.id)?.unavailable ?? 0,
    })),
  }
}
