import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type {
  GuildChange,
  GuildFeed,
  GuildPresence,
  VoiceEventOrigin,
  VoicePresence,
} from './ports'

/** The read API of today's single-guild feeds (createVoiceFeed, createClusteredVoiceFeed). */
export interface SingleGuildFeed {
  subscribe(listener: (event: VoiceEvent, origin?: VoiceEventOrigin) => void): () => void
  channelMembers(channelId: string): VoiceMember[]
  memberChannel(userId: string): string | null
  onResync?(listener: () => void): () => void
  caughtUp?(timeoutMs?: number): Promise<boolean>
}

/**
 * INTERIM ADAPTER (issue 20) — remove when the gateway package's multi-guild feed (`GuildVoice`:
 * memberChannel(guildId, userId), guilds(), onGuild()) is on main; the runtime then hands that feed
 * over as VoicePresence and GuildFeed directly.
 *
 * Presents a feed of one guild through the multi-guild ports: members of other guilds are in no
 * channel, the guild list is that one guild (available), and no guild change is ever reported
 * (the single-guild feed does not surface GUILD_CREATE / GUILD_DELETE).
 */
export function singleGuildVoice(
  feed: SingleGuildFeed,
  guildId: string,
): VoicePresence & GuildFeed {
  const presence: GuildPresence = { id: guildId, name: '', available: true, shardId: 0 }
  return {
    subscribe: (listener) => feed.subscribe(listener),
    channelMembers: (channelId) => feed.channelMembers(channelId),
    memberChannel: (guild, userId) => (guild === guildId ? feed.memberChannel(userId) : null),
    ...(feed.onResync
      ? { onResync: (listener: () => void) => feed.onResync?.(listener) ?? (() => {}) }
      : {}),
    ...(feed.caughtUp
      ? { caughtUp: (timeoutMs?: number) => feed.caughtUp?.(timeoutMs) ?? Promise.resolve(true) }
      : {}),
    guilds: () => [presence],
    onGuild: (_listener: (change: GuildChange) => void) => () => {},
  }
}
