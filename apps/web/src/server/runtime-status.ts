import type { ClusterStatus, GatewayStatus } from '@repo/discord-gateway'
import type { GuildInfo } from '../features/guilds/guild-registry.server'
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
        const feed = runtime.feedMetrics ? await runtime.feedMetrics.text() : ''
        return presence + feed + (await runtime.guildMetrics.text())
      },
    },
    opsAccessDenied: (request, clientAddress) =>
      opsAccessDenied(request, clientAddress, runtime.config.METRICS_TOKEN),
  }
}

/** Health facts for /api/health. */
export interface RuntimeHealth {
  /**
   * ok: voice presence is live; degraded: (re)connecting, a pool server that cannot take rooms
   * (see `guilds`), or with Redis a feed without a leader
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
  /**
   * Per guild: the pool's, those with open rooms and those the bot joined. `state` as the gateway
   * reports it (available, unavailable = a Discord outage, removed, unknown = not reported yet),
   * whether new rooms may go there, its open rooms and free capacity (rooms and channels that
   * still fit under Discord's 500 / 50 limits), and the permissions the bot lacks there.
   */
  guilds: GuildHealth[]
  /** Per gateway shard: its state and how many guilds it carries. */
  shards: ShardHealth[]
}

export interface GuildHealth {
  id: string
  name: string
  inPool: boolean
  state: GuildInfo['state']
  placeable: boolean
  rooms: number
  freeRooms: number
  freeChannels: number
  missingPermissions: string[] | null
  /** The server's setup checks that fail (`guild`: the bot is not in it); null: not checked. */
  failingChecks: string[] | null
}

export interface ShardHealth {
  id: number
  count: number
  state: string
  guilds: number
}

/** The per-guild figures (health and metrics). */
export function guildHealth(runtime: Runtime): GuildHealth[] {
  const known = runtime.guilds.list()
  const usage = new Map(
    runtime.rooms.guildUsageNow(known.map((g) => g.id)).map((u) => [u.guildId, u]),
  )
  const ids = [...new Set([...known.map((g) => g.id), ...usage.keys()])]
  return ids.map((id) => {
    const info = runtime.guilds.get(id)
    const use = usage.get(id)
    return {
      id,
      name: info?.name ?? '',
      inPool: info?.inPool ?? false,
      state: info?.state ?? 'unknown',
      placeable: runtime.guilds.placeable(id),
      rooms: use?.rooms ?? 0,
      freeRooms: use?.freeRooms ?? 0,
      freeChannels: use?.freeChannels ?? 0,
      missingPermissions: info?.missingPermissions ?? null,
      failingChecks: info?.failingChecks ?? null,
    }
  })
}

/**
 * The gateway's shards as the feed reports them (`status().shards`, both the in-process and the
 * clustered feed); a feed that reports none stands as shard 0 of 1 with the guilds it knows.
 */
export function shardHealth(
  runtime: Runtime,
  gateway: GatewayStatus | ClusterStatus,
): ShardHealth[] {
  const reported = (gateway as { shards?: ShardHealth[] }).shards
  if (Array.isArray(reported)) {
    return reported.map(({ id, count, state, guilds }) => ({ id, count, state, guilds }))
  }
  const state = 'state' in gateway ? gateway.state : gateway.health
  return [{ id: 0, count: 1, state, guilds: runtime.guildFeed.guilds().length }]
}

export function runtimeHealth(runtime: Runtime): RuntimeHealth {
  const permissions = runtime.missingPermissions.length > 0 || runtime.failingChecks.length > 0
  // A pool server that cannot take rooms (removed, an outage, permissions) while others can.
  const poolImpaired = runtime.config.DISCORD_GUILD_IDS.some((id) => !runtime.guilds.placeable(id))
  let status: RuntimeHealth['status']
  let gateway: GatewayStatus | ClusterStatus
  if (runtime.cluster) {
    const cluster = runtime.cluster.status()
    gateway = cluster
    status = permissions
      ? 'down'
      : poolImpaired && cluster.health === 'ok'
        ? 'degraded'
        : cluster.health
  } else {
    const single = runtime.feed?.status() as GatewayStatus
    gateway = single
    status =
      single.state === 'stopped' || permissions
        ? 'down'
        : single.state === 'ready' && !poolImpaired
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
    guilds: guildHealth(runtime),
    shards: shardHealth(runtime, gateway),
  }
}
