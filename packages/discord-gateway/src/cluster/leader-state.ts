import type { SessionInfo } from '@discordjs/ws'
import type { Redis } from 'ioredis'
import { z } from 'zod'
import type { GuildPresence } from '../guilds/guild-voice'
import { shardOf } from '../guilds/shard-of'
import type { VoiceStoreState } from '../voice/voice-state-reducer'
import { createVoiceStoreState } from '../voice/voice-state-reducer'
import { pairsToObject, parseMembers, parseMeta, parseProfiles, parseSession } from './feed-codec'
import { READ_GUILDS, READ_LEADER_STATE } from './feed-scripts'
import type { GatewayKeys, ShardRef, VoiceFeedKeys } from './keys'
import { gatewayKeys, guildKeys, voiceFeedKeys } from './keys'

/** What a new leader starts from. */
export interface RestoredFeed {
  /** The reducer state, as of the snapshot (empty when Redis has no feed). */
  readonly state: VoiceStoreState
  /** The feed's epoch, or null when Redis has no feed (the leader reseeds before connecting). */
  readonly epoch: string | null
  /** The session to RESUME (at the snapshot's sequence), or null: IDENTIFY. */
  readonly session: SessionInfo | null
  /** Members or profiles in Redis that did not parse (left out). */
  readonly invalid: number
}

/**
 * Reads meta, the snapshot hashes and the session hash in one script and rebuilds the reducer
 * state, so feedSeq continues where the last leader stopped. The session is resumed only when it
 * is the one the snapshot reflects and the snapshot is complete (synced); otherwise the new
 * leader identifies and the GUILD_CREATE diff against this snapshot is appended once.
 */
export async function readLeaderState(
  redis: Redis,
  keys: { gateway: GatewayKeys; feed: VoiceFeedKeys },
  guildId: string,
  shard: ShardRef,
): Promise<RestoredFeed> {
  const reply = (await READ_LEADER_STATE.run(
    redis,
    [keys.feed.meta, keys.feed.members, keys.feed.profiles, keys.gateway.session],
    [],
  )) as [unknown, unknown, unknown, unknown]
  const meta = parseMeta(pairsToObject(reply[0]))
  if (!meta)
    return { state: createVoiceStoreState(guildId), epoch: null, session: null, invalid: 0 }
  const { members, invalid } = parseMembers(reply[1])
  const profileHash = pairsToObject(reply[2])
  const profiles = parseProfiles(profileHash)
  const state: VoiceStoreState = {
    guildId,
    sessionId: meta.sessionId,
    seq: meta.seq,
    feedSeq: meta.feedSeq,
    synced: meta.synced,
    members: new Map(members.map((m) => [m.userId, m])),
    profiles,
  }
  const stored = parseSession(pairsToObject(reply[3]))
  const session =
    stored &&
    meta.synced &&
    stored.sessionId === meta.sessionId &&
    stored.shardId === shard.id &&
    stored.shardCount === shard.count
      ? { ...stored, sequence: meta.seq }
      : null
  return {
    state,
    epoch: meta.epoch,
    session,
    invalid: invalid + Object.keys(profileHash).length - profiles.size,
  }
}

/** A registry entry as stored (see WRITE_GUILD_CHANGE). */
const RegistryEntrySchema = z.object({
  name: z.string(),
  available: z.boolean(),
  shardId: z.number().int().nonnegative(),
})

/** The guild registry hash (HGETALL's flat answer) as presences; unreadable entries are left out. */
export function parseRegistry(flat: unknown): GuildPresence[] {
  const out: GuildPresence[] = []
  for (const [id, json] of Object.entries(pairsToObject(flat))) {
    if (!/^\d{17,20}$/.test(id)) continue
    try {
      const parsed = RegistryEntrySchema.safeParse(JSON.parse(json))
      if (parsed.success) out.push({ id, ...parsed.data })
    } catch {
      // left out
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** What a new shard leader starts from. */
export interface RestoredShard {
  /** The shard's guilds (by the registry), each with its state and its feed's epoch. */
  readonly guilds: { presence: GuildPresence; state: VoiceStoreState; epoch: string | null }[]
  /** The session to RESUME (at the session hash's sequence), or null: IDENTIFY. */
  readonly session: SessionInfo | null
  /** Guilds whose snapshot is complete in Redis (all of them: the shard counts as settled). */
  readonly settled: boolean
  readonly invalid: number
  /** The deployment's shard count in Redis (null: not stored); not `shard.count` after a reshard. */
  readonly count: number | null
}

/**
 * Reads the shard's guilds (the registry entries the shard owns under its count) and each one's
 * feed, and the shard's session hash. The session is resumed at the hash's sequence: the
 * ShardWriter moves it only once everything of the shard up to it is written.
 */
export async function readShardState(
  redis: Redis,
  prefix: string,
  shard: ShardRef,
): Promise<RestoredShard> {
  const keys = guildKeys(prefix)
  const gateway = gatewayKeys(prefix, shard)
  const [registry, , storedCount] = (await READ_GUILDS.run(
    redis,
    [keys.registry, keys.shards, keys.shardCount],
    [],
  )) as [unknown, unknown, string]
  const presences = parseRegistry(registry).filter((g) => shardOf(g.id, shard.count) === shard.id)
  const guilds: RestoredShard['guilds'] = []
  let invalid = 0
  let settled = true
  for (const presence of presences) {
    const restored = await readLeaderState(
      redis,
      { gateway, feed: voiceFeedKeys(prefix, presence.id) },
      presence.id,
      shard,
    )
    invalid += restored.invalid
    if (!restored.state.synced) settled = false
    guilds.push({
      presence: { ...presence, shardId: shard.id },
      state: restored.state,
      epoch: restored.epoch,
    })
  }
  const stored = parseSession(pairsToObject(await redis.hgetall(gateway.session).then(toFlat)))
  const session =
    stored && stored.shardId === shard.id && stored.shardCount === shard.count ? stored : null
  const count = Number(storedCount)
  return {
    guilds,
    session,
    settled,
    invalid,
    count: Number.isSafeInteger(count) && count > 0 ? count : null,
  }
}

function toFlat(hash: Record<string, string>): string[] {
  return Object.entries(hash).flat()
}
