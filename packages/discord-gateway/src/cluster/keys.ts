/** A gateway shard: `[id, count]` as in IDENTIFY. */
export interface ShardRef {
  readonly id: number
  readonly count: number
}

export const ONE_SHARD: ShardRef = { id: 0, count: 1 }

/** The Redis keys of one shard's gateway: who may speak for it, and the session it resumes. */
export interface GatewayKeys {
  /** String `holderId:token`, `PX leaseMs`: who leads the shard's gateway. */
  readonly lease: string
  /** The fencing counter: the token of the latest lease; it only ever grows. */
  readonly fence: string
  /** Hash: `sessionId`, `seq`, `resumeURL`, `shardId`, `shardCount`, `token`, `updatedAt`. */
  readonly session: string
  /** Hash: the latest handover (`holderId`, `token`, `at`, `durationMs`, `mode`), for every node's health. */
  readonly handover: string
  /**
   * The deployment's shard count (shared by every shard): a write of a shard whose count is not
   * this one is refused like a stale fencing token, so a reshard fences every leader of the old count.
   */
  readonly shardCount: string
}

/** The Redis keys of one guild's voice feed. */
export interface VoiceFeedKeys {
  /** Stream: one entry per voice event (`epoch`, `event`, `sessionId`, `seq`, `feedSeq`, `token`). */
  readonly stream: string
  /** Hash userId → VoiceMember JSON: everyone in voice, as of `meta.lastId`. */
  readonly members: string
  /** Hash userId → profile JSON: the reducer's display data. */
  readonly profiles: string
  /** Hash: `epoch`, `lastId`, `feedSeq`, `sessionId`, `seq`, `synced`, `writer`, `updatedAt`. */
  readonly meta: string
}

/**
 * Keys are plain strings under the deployment's prefix. The scripts touch a shard's keys and a
 * guild's keys together, so they need one Redis primary (standalone, or Sentinel / a managed
 * primary with replicas), not Redis Cluster.
 */
export function gatewayKeys(prefix: string, shard: ShardRef = ONE_SHARD): GatewayKeys {
  const base = `${prefix}gateway:shard:${shard.id}:${shard.count}:`
  return {
    lease: `${base}lease`,
    fence: `${base}fence`,
    session: `${base}session`,
    handover: `${base}handover`,
    shardCount: guildKeys(prefix).shardCount,
  }
}

export function voiceFeedKeys(prefix: string, guildId: string): VoiceFeedKeys {
  const base = `${prefix}voice:${guildId}:`
  return {
    stream: `${base}stream`,
    members: `${base}members`,
    profiles: `${base}profiles`,
    meta: `${base}meta`,
  }
}

/** The deployment's guild list and its changes (written by the shard leaders, read by every node). */
export interface GuildKeys {
  /** Hash guildId → `{name, available, shardId}` JSON: every guild the bot is in. */
  readonly registry: string
  /** Stream: one entry per guild change (`change` = the GuildChange JSON, `token`). */
  readonly events: string
  /** String: the shard count every node runs (set once, changed by a reshard). */
  readonly shardCount: string
  /** Hash `id:count` → `1` when the shard's leader has every guild of its READY settled, else `0`. */
  readonly shards: string
}

export function guildKeys(prefix: string): GuildKeys {
  return {
    registry: `${prefix}guilds`,
    events: `${prefix}guilds:events`,
    shardCount: `${prefix}gateway:shard-count`,
    shards: `${prefix}gateway:shards-settled`,
  }
}
