import type { ClusteredVoiceFeed, VoiceFeed } from '@repo/discord-gateway'
import type { DiscordRest, SetupCheck } from '@repo/discord-integration'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { AuthService } from '../../features/auth/auth-service.server'
import type { GuildRegistry } from '../../features/guilds/guild-registry.server'
import type { PresenceService } from '../../features/presence/presence-service.server'
import type { CleanupScheduler } from '../../features/rooms/cleanup-scheduler.server'
import type { RestDiscordRooms } from '../../features/rooms/discord-rooms.server'
import type { RoomService } from '../../features/rooms/room-service.server'
import type { RoomStore } from '../../features/rooms/room-store'
import type { CommunityServers } from '../../features/servers/community-servers.server'
import type { ServerSettingsStore } from '../../features/servers/server-settings-store'
import type { CallerRateLimit } from '../caller-rate-limit'
import type { ServerConfig } from '../config.server'
import type { GuildMetrics } from '../guild-metrics.server'
import type { Leadership } from '../leader-lease.server'
import type { LogThrottle } from '../log-throttle'
import type { GuildFeed, ViewerRegistry, VoicePresence } from '../ports'
import type { VoiceFeedMetrics } from '../voice-feed-metrics.server'

/** Everything the server process runs, created once. */
export interface Runtime {
  config: ServerConfig
  logger: Logger
  rest: DiscordRest
  auth: AuthService
  /** One node (no REDIS_URL): the in-process gateway feed, else null. */
  feed: VoiceFeed | null
  /**
   * Several nodes (REDIS_URL): this node's reader of the guild's voice stream, and with
   * GATEWAY_MODE=in-process a candidate for the gateway lease too; else null.
   */
  cluster: ClusteredVoiceFeed | null
  /** Live voice presence in every guild: the read API of whichever of the two runs. */
  voice: VoicePresence
  /** The guilds the gateway sees, and their changes (the same feed). */
  guildFeed: GuildFeed
  /** The guilds rooms may go in: the pool's and those the bot joined, with their state. */
  guilds: GuildRegistry
  /** With `cluster`: its figures for /metrics. */
  feedMetrics: VoiceFeedMetrics | null
  /** Per guild and per shard, for /metrics (the facts of /api/health's `guilds` and `shards`). */
  guildMetrics: GuildMetrics
  store: RoomStore
  rooms: RoomService
  /**
   * Community servers (ROOMS_COMMUNITY=1): the servers a user can create rooms in, and the
   * settings of those they manage; null when off.
   */
  servers: CommunityServers | null
  /** With `servers`: where their settings live (beside the rooms: DATA_DIR or Redis). */
  serverSettings: ServerSettingsStore | null
  scheduler: CleanupScheduler
  presence: PresenceService
  /** Who has which room page open, over every node (Redis) or on this one. */
  viewers: ViewerRegistry
  redis: Redis | null
  /** Per-caller rate limit of the server functions. */
  callerLimit: CallerRateLimit
  discord: RestDiscordRooms
  /**
   * Permissions the bot lacks in the guild or on a room category (checked at start-up); rooms
   * fail until they are granted.
   */
  missingPermissions: string[]
  /** The setup checks that failed at start-up (src/server/setup-checks.server.ts). */
  failingChecks: SetupCheck[]
  /** Who runs cleanup and reconciliation: a Redis lease with REDIS_URL, else always this node. */
  leadership: Leadership
  /** Rate-limits the log lines clients can cause at will (rejected requests, refused upgrades). */
  logThrottle: LogThrottle
  /** The /api/ws route's log of refused upgrades (rate-limited). */
  wsLog: Logger
}
