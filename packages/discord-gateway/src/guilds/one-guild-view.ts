import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { ResyncInfo, VoiceEventOrigin } from '../cluster/mirror-contract'

/** What {@link oneGuildView} reads: a multi-guild feed (in-process or clustered). */
export interface GuildVoiceSource {
  subscribe(listener: (event: VoiceEvent, origin?: VoiceEventOrigin) => void): () => void
  channelMembers(channelId: string): VoiceMember[]
  memberChannel(guildId: string, userId: string): string | null
  onResync?(listener: (info: ResyncInfo) => void): () => void
  caughtUp?(timeoutMs?: number): Promise<boolean>
}

/** One guild's voice, read through a multi-guild feed (the single-guild read API). */
export interface OneGuildView {
  readonly guildId: string
  /** Only this guild's events. */
  subscribe(listener: (event: VoiceEvent, origin?: VoiceEventOrigin) => void): () => void
  channelMembers(channelId: string): VoiceMember[]
  memberChannel(userId: string): string | null
  onResync?(listener: (info: ResyncInfo) => void): () => void
  caughtUp?(timeoutMs?: number): Promise<boolean>
}

/**
 * The view of one guild for a consumer that serves one (`DISCORD_GUILD_ID`): `memberChannel`
 * without the guild, events of that guild only. The feed itself tracks every guild the bot is in.
 */
export function oneGuildView(feed: GuildVoiceSource, guildId: string): OneGuildView {
  const view: OneGuildView = {
    guildId,
    subscribe: (listener) =>
      feed.subscribe((event, origin) => {
        if (event.guildId === guildId) listener(event, origin)
      }),
    channelMembers: (channelId) => feed.channelMembers(channelId),
    memberChannel: (userId) => feed.memberChannel(guildId, userId),
  }
  const { onResync, caughtUp } = feed
  if (onResync) view.onResync = (listener) => onResync.call(feed, listener)
  if (caughtUp) view.caughtUp = (timeoutMs) => caughtUp.call(feed, timeoutMs)
  return view
}
