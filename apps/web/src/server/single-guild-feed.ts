import type { GuildChange, GuildFeed, GuildPresence } from './ports'

/**
 * INTERIM (issue 20) — remove when the clustered voice feed (createClusteredVoiceFeed) reports its
 * guilds (`guilds()`, `onGuild()`) as the in-process feed does; the runtime then hands that feed
 * over as the GuildFeed directly.
 *
 * The guild list of a feed that serves one guild: that guild, available, and no change is ever
 * reported (the bot's removal from it, an outage, a new guild go unnoticed until then).
 */
export function singleGuildFeed(guildId: string): GuildFeed {
  const presence: GuildPresence = { id: guildId, name: '', available: true, shardId: 0 }
  return {
    guilds: () => [presence],
    onGuild: (_listener: (change: GuildChange) => void) => () => {},
  }
}
