import type { SessionInfo } from '@discordjs/ws'
import type { Redis } from 'ioredis'
import type { VoiceStoreState } from '../voice/voice-state-reducer'
import { createVoiceStoreState } from '../voice/voice-state-reducer'
import { pairsToObject, parseMembers, parseMeta, parseProfiles, parseSession } from './feed-codec'
import { READ_LEADER_STATE } from './feed-scripts'
import type { GatewayKeys, ShardRef, VoiceFeedKeys } from './keys'

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
