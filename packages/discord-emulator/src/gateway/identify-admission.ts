import { GatewayCloseCodes as C } from 'discord-api-types/v10'
import type { z } from 'zod'
import type { Guild } from '../world/guild.ts'
import { shardOf } from '../world/sharding.ts'
import type { World } from '../world/world.ts'
import type { IdentifyLimits } from './identify-limits.ts'
import { IdentifySchema, identifyRefusal } from './payloads.ts'

/** What becomes of an op 2 IDENTIFY. */
export type IdentifyAdmission =
  /** Refused with a close code. */
  | { type: 'close'; code: number; reason: string }
  /** Refused with op 9 Invalid Session (not resumable). */
  | { type: 'invalidSession' }
  /** Admitted: a new session of `shard` handling the bot's guilds `owned`. */
  | {
      type: 'admit'
      identify: z.output<typeof IdentifySchema>
      shard: [number, number]
      owned: Guild[]
    }

/**
 * Decides an IDENTIFY as Discord does: a payload that does not decode 4002; a wrong token, bad or
 * disallowed intents or an invalid shard (identifyRefusal); a shard that would handle too many
 * guilds 4011; then the identify limits, which an admitted IDENTIFY uses up (over max_concurrency:
 * op 9; the daily quota exhausted: 4004).
 */
export function admitIdentify(
  world: World,
  limits: IdentifyLimits,
  raw: unknown,
): IdentifyAdmission {
  const parsed = IdentifySchema.safeParse(raw)
  if (!parsed.success) {
    return { type: 'close', code: C.DecodeError, reason: 'Error while decoding payload.' }
  }
  const d = parsed.data
  const refusal = identifyRefusal(d, world)
  if (refusal) return { type: 'close', ...refusal }
  const shard = d.shard ?? [0, 1]
  // Sharding formula: shard_id = (guild_id >> 22) % num_shards (docs events/gateway "Sharding").
  const botGuilds = world.botGuilds()
  const owned = botGuilds.filter((g) => shardOf(g.id, shard[1]) === shard[0])
  if (owned.length > world.sharding.guildsPerShard) {
    // "The session would have handled too many guilds" (4011 Sharding required).
    return { type: 'close', code: C.ShardingRequired, reason: 'Sharding required.' }
  }
  // One IDENTIFY per 5 s per bucket `shard_id % max_concurrency` (docs "Max Concurrency").
  const refused = limits.take(shard[0], world.sharding.maxConcurrency)
  if (refused === 'concurrency') {
    // Over max_concurrency: Discord answers op 9 (docs events/gateway "Identifying").
    return { type: 'invalidSession' }
  }
  if (refused === 'quota') {
    // Quota exhausted: Discord terminates sessions and resets the token.
    return { type: 'close', code: C.AuthenticationFailed, reason: 'Authentication failed.' }
  }
  return { type: 'admit', identify: d, shard, owned }
}
