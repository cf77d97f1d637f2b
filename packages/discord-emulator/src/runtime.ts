import type { GatewayServer } from './gateway/gateway-server.ts'
import type { Logger } from './log.ts'
import type { OAuthApp, OAuthStore } from './oauth/oauth-store.ts'
import type { FaultStore } from './rest/faults.ts'
import type { RateLimiter } from './rest/rate-limiter.ts'
import type { World } from './world/world.ts'

/** One entry of the REST request log. */
export interface RestLogEntry {
  at: number
  method: string
  path: string
  status: number
}

/** Everything the HTTP handlers share. `world` is replaced on reset. */
export interface Runtime {
  world: World
  readonly gateway: GatewayServer
  readonly oauth: OAuthStore
  readonly apps: () => OAuthApp[]
  readonly limiter: RateLimiter
  readonly faults: FaultStore
  readonly log: Logger
  readonly urls: { restBase: string; webUrl: string; gatewayUrl: string; resumeUrl: string }
  readonly requestLog: RestLogEntry[]
}
