import type { ClusterStatus, GatewayStatus } from '@repo/discord-gateway'
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
  /** The presence metrics (and with Redis the voice feed's) in Prometheus' text format. */
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
      text: async () => {
        const presence = await runtime.presence.metricsText()
        return runtime.feedMetrics ? presence + (await runtime.feedMetrics.text()) : presence
      },
    },
    opsAccessDenied: (request, clientAddress) =>
      opsAccessDenied(request, clientAddress, runtime.config.METRICS_TOKEN),
  }
}

/** Health facts for /api/health. */
export interface RuntimeHealth {
  /**
   * ok: voice presence is live; degraded: (re)connecting, or with Redis a feed without a leader
   * for longer than a lease, lagging, without a snapshot or failing to reach Redis (`gateway.reasons`);
   * down: the gateway stopped (one node), or a setup check failed at start-up (failingChecks, the
   * bot's missing permissions among them): an operator must act.
   */
  status: 'ok' | 'degraded' | 'down'
  /** `single`: one node, no Redis. `cluster`: several nodes on Redis. */
  layout: 'single' | 'cluster'
  gatewayMode: ServerConfig['GATEWAY_MODE']
  /**
   * One node: the gateway connection's status. Several: this node's view of the clustered feed
   * (who leads, the fencing token, this node's stream lag, the last handover, reasons).
   */
  gateway: GatewayStatus | ClusterStatus
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
  const permissions = runtime.missingPermissions.length > 0 || runtime.failingChecks.length > 0
  let status: RuntimeHealth['status']
  let gateway: GatewayStatus | ClusterStatus
  if (runtime.cluster) {
    const cluster = runtime.cluster.status()
    gateway = cluster
    status = permissions ? 'down' : cluster.health
  } else {
    const single = runtime.feed?.status() as GatewayStatus
    gateway = single
    status =
      single.state === 'stopped' || permissions
        ? 'down'
        : single.state === 'ready'
          ? 'ok'
          : 'degraded'
  }
  return {
    status,
    layout: runtime.cluster ? 'cluster' : 'single',
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
