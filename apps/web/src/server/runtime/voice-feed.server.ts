import { join } from 'node:path'
import {
  type ClusteredVoiceFeed,
  createClusteredVoiceFeed,
  createVoiceFeed,
  FileSessionStore,
  type VoiceFeed,
} from '@repo/discord-gateway'
import type { RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import type { ServerConfig } from '../config.server'
import type { GuildFeed, VoicePresence } from '../ports'

/** The voice feed the layout picks, and what the rest of the runtime reads of it. */
export interface VoiceFeedChoice {
  /** One node (no REDIS_URL): the in-process gateway feed, else null. */
  feed: VoiceFeed | null
  /** Several nodes (REDIS_URL): this node's reader of the voice stream (maybe a gateway candidate). */
  cluster: ClusteredVoiceFeed | null
  /** Live voice presence in every guild: the read API of whichever of the two runs. */
  voice: VoicePresence
  /** The guilds the gateway sees, and their changes (the same feed). */
  guildFeed: GuildFeed
  /** Whether voice presence is known (the feed is ready, or resuming on one node). */
  voiceReady: () => boolean
}

/**
 * With REDIS_URL the clustered feed (it reads the voice stream, and with GATEWAY_MODE=in-process
 * competes for the gateway lease), else the one in-process gateway (its session in DATA_DIR).
 */
export function chooseVoiceFeed(
  config: ServerConfig,
  redisOptions: RedisOptions,
  logger: Logger,
): VoiceFeedChoice {
  const intents = { guildMembers: config.DISCORD_GUILD_MEMBERS_INTENT }
  const cluster = config.REDIS_URL
    ? createClusteredVoiceFeed({
        redisUrl: config.REDIS_URL,
        redisOptions,
        prefix: config.REDIS_PREFIX,
        leaseMs: config.GATEWAY_LEASE_MS,
        maxLagMs: config.GATEWAY_MAX_LAG_MS,
        ...(config.DISCORD_SHARD_COUNT ? { shardCount: config.DISCORD_SHARD_COUNT } : {}),
        ...(config.GATEWAY_SHARD_IDS ? { shardIds: config.GATEWAY_SHARD_IDS } : {}),
        candidate:
          config.GATEWAY_MODE === 'in-process'
            ? {
                token: config.DISCORD_BOT_TOKEN,
                apiUrl: config.DISCORD_API_URL,
                intents,
                streamMaxLen: config.GATEWAY_STREAM_MAXLEN,
                ...(config.GATEWAY_HOLDER_ID ? { holderId: config.GATEWAY_HOLDER_ID } : {}),
              }
            : false,
        logger: logger.child({ component: 'gateway' }),
      })
    : null
  const feed = cluster
    ? null
    : createVoiceFeed({
        token: config.DISCORD_BOT_TOKEN,
        apiUrl: config.DISCORD_API_URL,
        intents,
        ...(config.DISCORD_SHARD_COUNT ? { shardCount: config.DISCORD_SHARD_COUNT } : {}),
        sessionStore: new FileSessionStore(join(config.DATA_DIR, 'gateway-session.json')),
        logger: logger.child({ component: 'gateway' }),
      })
  // Voice in every guild: both feeds answer memberChannel(guildId, userId), list the bot's guilds
  // and report their changes (on several nodes, every node hears them from Redis).
  const voice: VoicePresence = cluster ?? (feed as VoiceFeed)
  const guildFeed: GuildFeed = cluster ?? (feed as VoiceFeed)
  return {
    feed,
    cluster,
    voice,
    guildFeed,
    voiceReady: () =>
      cluster
        ? cluster.status().mirror.ready
        : ['ready', 'resuming'].includes(feed?.status().state ?? ''),
  }
}
