import type { Logger } from 'pino'
import type { AuthService } from '../../features/auth/auth-service.server'
import type { RoomService } from '../../features/rooms/room-service.server'
import type { CommunityServers } from '../../features/servers/community-servers.server'
import type { CallerRateLimit } from '../caller-rate-limit'
import type { ServerConfig } from '../config.server'
import type { Runtime } from './runtime'

/**
 * What the app's request handlers may use of the runtime: middleware (src/server/middleware/)
 * hands these parts to server functions and server routes in their `context`, so no feature
 * reaches for the process-wide runtime itself.
 */
export interface RequestServices {
  config: ServerConfig
  logger: Logger
  auth: AuthService
  rooms: RoomService
  /** Community servers; null unless ROOMS_COMMUNITY=1. */
  servers: CommunityServers | null
  /** Per-caller rate limit of the server functions. */
  callerLimit: CallerRateLimit
}

export function requestServices(runtime: Runtime): RequestServices {
  const { config, logger, auth, rooms, servers, callerLimit } = runtime
  return { config, logger, auth, rooms, servers, callerLimit }
}
