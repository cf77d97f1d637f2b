import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { VoiceEventOrigin } from '../cluster/mirror-contract'
import type { GatewayState } from '../gateway-status'

/** A guild the bot is in, as the gateway sees it. */
export interface GuildPresence {
  id: string
  name: string
  /** False during an outage (GUILD_DELETE `unavailable: true`, or listed unavailable in READY). */
  available: boolean
  /** The shard the guild is on: `(guild_id >> 22) % shard count`. */
  shardId: number
}

/** A change to the set of guilds the bot is in. */
export type GuildChange =
  /** GUILD_CREATE: the bot joined the guild, or it is back from an outage. */
  | { type: 'guild.available'; guildId: string; name: string }
  /** GUILD_DELETE `unavailable: true` (an outage): its voice state is kept, touch nothing. */
  | { type: 'guild.unavailable'; guildId: string }
  /** GUILD_DELETE without `unavailable`: the bot was removed (its members left first, reason `guild_removed`). */
  | { type: 'guild.removed'; guildId: string }

/** One gateway shard, as health and metrics show it. */
export interface ShardStatus {
  id: number
  count: number
  /** The connection's state (`idle` on a node that does not lead this shard). */
  state: GatewayState
  /** Guilds on this shard. */
  guilds: number
  /** Of which unavailable (outage). */
  unavailableGuilds: number
  /** Clustered only: who holds the shard's lease, as last read, and whether it is this node. */
  leader?: { holderId: string; token: number } | null
  isLeader?: boolean
}

/** What both feeds (in-process and clustered) offer. Voice events carry their guildId. */
export interface GuildVoice {
  start(): Promise<void>
  stop(): Promise<void>
  /** Every voice event, in feedSeq order per guild. Returns unsubscribe. */
  subscribe(listener: (event: VoiceEvent, origin?: VoiceEventOrigin) => void): () => void
  /** Members in a voice channel (channel ids are global snowflakes), sorted by user id. */
  channelMembers(channelId: string): VoiceMember[]
  /** The channel `userId` is in within `guildId`, or null. */
  memberChannel(guildId: string, userId: string): string | null
  /** Every guild the bot is in (available or not), sorted by id. */
  guilds(): GuildPresence[]
  /** Guild joins, outages and removals. Returns unsubscribe. */
  onGuild(listener: (change: GuildChange) => void): () => void
  /** Every shard READY and every guild of READY created or known unavailable. */
  ready(timeoutMs?: number): Promise<void>
  status(): { shards: ShardStatus[] }
}
