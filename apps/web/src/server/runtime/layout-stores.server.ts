import { join } from 'node:path'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { FileLoginSessionStore } from '../../features/auth/file-login-session-store.server'
import type { LoginSessionStore } from '../../features/auth/login-session'
import { RedisLoginSessionStore } from '../../features/auth/redis-login-session-store.server'
import { FileRoomStore } from '../../features/rooms/file-room-store.server'
import { RedisRoomStore } from '../../features/rooms/redis-room-store.server'
import type { CodeAttemptLimits } from '../../features/rooms/room-commands.server'
import {
  CODE_ATTEMPTS_PER_ADDRESS,
  CODE_ATTEMPTS_PER_USER,
} from '../../features/rooms/room-service.server'
import type { RoomStore } from '../../features/rooms/room-store'
import { FileServerSettingsStore } from '../../features/servers/file-server-settings-store.server'
import { RedisServerSettingsStore } from '../../features/servers/redis-server-settings-store.server'
import type { ServerSettingsStore } from '../../features/servers/server-settings-store'
import type { ServerConfig } from '../config.server'
import type { ViewerRegistry } from '../ports'
import { RedisAttemptLimiter } from '../redis-attempt-limiter.server'
import { RedisViewerPresence } from '../redis-viewer-presence.server'
import { MemoryViewerPresence } from '../viewer-presence'

/**
 * Where the runtime keeps its state, by layout: Redis on several nodes (REDIS_URL), files in
 * DATA_DIR (and memory) on one. Nothing here does I/O until it is used or started.
 */
export interface LayoutStores {
  /** Login sessions live where the rooms do. */
  loginSessions: LoginSessionStore
  rooms: RoomStore
  /** Community servers' settings (ROOMS_COMMUNITY=1), beside the rooms; else null. */
  serverSettings: ServerSettingsStore | null
  /** Who has which room page open, over every node (Redis) or on this one. */
  viewers: ViewerRegistry
  /** Room code attempt counters shared by the nodes (Redis); null: the rooms keep them in memory. */
  codeAttempts: CodeAttemptLimits | null
}

/** The stores of the layout `redis` picks (null: one node, DATA_DIR). */
export function createLayoutStores(
  config: ServerConfig,
  redis: Redis | null,
  logger: Logger,
): LayoutStores {
  return redis ? redisStores(config, redis, logger) : fileStores(config)
}

/** Several nodes: everything shared lives in Redis under REDIS_PREFIX. */
function redisStores(config: ServerConfig, redis: Redis, logger: Logger): LayoutStores {
  const prefix = config.REDIS_PREFIX
  return {
    loginSessions: new RedisLoginSessionStore(redis, prefix),
    rooms: new RedisRoomStore(redis, prefix, storeGuilds(config)),
    serverSettings: config.ROOMS_COMMUNITY ? new RedisServerSettingsStore(redis, prefix) : null,
    viewers: new RedisViewerPresence({
      redis,
      prefix,
      logger: logger.child({ component: 'viewers' }),
    }),
    codeAttempts: {
      perUser: new RedisAttemptLimiter({
        redis,
        prefix: `${prefix}code-attempts:`,
        limits: CODE_ATTEMPTS_PER_USER,
      }),
      perAddress: new RedisAttemptLimiter({
        redis,
        prefix: `${prefix}code-attempts:`,
        limits: CODE_ATTEMPTS_PER_ADDRESS,
      }),
    },
  }
}

/** One node: files in DATA_DIR, viewers and code attempts in memory. */
function fileStores(config: ServerConfig): LayoutStores {
  return {
    loginSessions: new FileLoginSessionStore(join(config.DATA_DIR, 'sessions.json')),
    rooms: new FileRoomStore(join(config.DATA_DIR, 'rooms.json'), storeGuilds(config)),
    serverSettings: config.ROOMS_COMMUNITY
      ? new FileServerSettingsStore(join(config.DATA_DIR, 'server-settings.json'))
      : null,
    viewers: new MemoryViewerPresence(),
    codeAttempts: null,
  }
}

/** Categories stored before guilds were recorded belong to the home guild. */
function storeGuilds(config: ServerConfig): { homeGuildId: string } {
  return { homeGuildId: config.DISCORD_GUILD_ID }
}
