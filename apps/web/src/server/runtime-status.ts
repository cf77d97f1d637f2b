import type { GatewayStatus } from '@repo/discord-gateway'
import type { PresenceHealth } from '../features/presence/presence-service.server'
import type { ServerConfig } from './config.server'
import { opsAccessDenied } from './ops-access'
import { checkReadiness, type Readiness } from './readiness.server'
import type { Runtime } from './runtime.server'

/**
 * How the runtime is doing, for /api/health, /api/health/ready and /metrics (answered even while
 * it starts).
 */
export interface RuntimeStatus {
  health(): RuntimeHealth
  /** Whether this node can serve (see checkReadiness); reasons never leave the server. */
  ready(): Promise<Readiness>
  /** The presence metrics in Prometheus' text format. */
  metrics: { readonly contentType: string; text(): Promise<string> }
  /** Refuses a request for the operator endpoints (METRICS_TOKEN, else loopback only): see ops-access.ts. */
  opsAccessDenied(request: Request, clientAddress: string | undefined): Response | null
}

/** The status of `runtime`; `started` tells whether it has finished starting. */
export function runtimeStatus(runtime: Runtime, started: boolean): RuntimeStatus {
  return {
    health: () => runtimeHealth(runtime),
    ready: () => checkReadiness(started ? runtime : null),
    metrics: {
      contentType: runtime.presence.metrics.contentType,
      text: () => runtime.presence.metricsText(),
    },
    opsAccessDenied: (request, clientAddress) =>
      opsAccessDenied(request, clientAddress, runtime.config.METRICS_TOKEN),
  }
}

/** Health facts for /api/health. */
export interface RuntimeHealth {
  /**
   * ok: voice presence is live; degraded: (re)connecting; down: stopped, or a setup check failed
   * at start-up (failingChecks): an operator must act.
   */
  status: 'ok' | 'degraded' | 'down'
  gatewayMode: ServerConfig['GATEWAY_MODE']
  gateway: GatewayStatus | { state: 'hub-synced' | 'hub-waiting' }
  rooms: number
  /** With Redis (several nodes): whether this node holds the cleanup lease. */
  leader?: boolean
  /**
   * Permissions the bot lacks in the guild or on a room category: rooms cannot work until an
   * operator grants them.
   */
  missingPermissions: string[]
  /** The setup checks that failed at start-up, each with its fix (`pnpm doctor` says the same). */
  failingChecks: { id: string; title: string; message: string; fix?: string }[]
  presence: PresenceHealth
}

export function runtimeHealth(runtime: Runtime): RuntimeHealth {
  const gateway = runtime.feed
    ? runtime.feed.status()
    : { state: runtime.hub?.synced ? ('hub-synced' as const) : ('hub-waiting' as const) }
  const status =
    gateway.state === 'stopped' ||
    runtime.missingPermissions.length > 0 ||
    runtime.failingChecks.length > 0
      ? 'down'
      : gateway.state === 'ready' || gateway.state === 'hub-synced'
        ? 'ok'
        : 'degraded'
  return {
    status,
    gatewayMode: runtime.config.GATEWAY_MODE,
    gateway,
    rooms: runtime.rooms.openRooms,
    ...(runtime.redis ? { leader: runtime.leadership.isLeader } : {}),
    missingPermissions: runtime.missingPermissions,
    failingChecks: runtime.failingChecks.map(({ id, title, message, fix }) =>
      fix === undefined ? { id, title, message } : { id, title, message, fix },
    ),
    presence: runtime.presence.health(),
  }
}
