import { redisConnectionOptions } from '@repo/discord-gateway'
import { COMMUNITY_OAUTH_SCOPES, createDiscordRest, OAuthClient } from '@repo/discord-integration'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { AuthService } from '../features/auth/auth-service.server'
import { readSocketUser } from '../features/auth/session.server'
import { GuildRegistry } from '../features/guilds/guild-registry.server'
import {
  createPresenceService,
  type PresenceService,
} from '../features/presence/presence-service.server'
import { createRedisEventBus } from '../features/presence/redis-event-bus.server'
import { CleanupScheduler } from '../features/rooms/cleanup-scheduler.server'
import { RestDiscordRooms } from '../features/rooms/discord-rooms.server'
import { InviteTokens } from '../features/rooms/invite-token.server'
import { RoomService } from '../features/rooms/room-service.server'
import { CallerRateLimit } from './caller-rate-limit'
import { type Clock, systemClock } from './clock'
import { ConfigError, getConfig, type ServerConfig } from './config.server'
import { LeaderLease, type Leadership, soleLeader } from './leader-lease.server'
import { LogThrottle } from './log-throttle'
import { createLogger } from './logger.server'
import type { RoomEvents } from './ports'
import { communityRooms, createCommunityServers } from './runtime/community-servers.server'
import { createLayoutStores } from './runtime/layout-stores.server'
import type { Runtime } from './runtime/runtime'
import { bootRuntime, shutdownRuntime } from './runtime/runtime-lifecycle.server'
import { runtimeMetrics } from './runtime/runtime-metrics.server'
import { chooseVoiceFeed } from './runtime/voice-feed.server'
import { checkDiscord, guildCheckOf } from './setup-checks.server'

// The composition root: createRuntime wires the parts that runtime/ builds (stores by layout, the
// voice feed, community servers, metrics; start, the start-up check and stop in
// runtime-lifecycle.server.ts). Everything the routes, middleware and tests use is exported here.
export { type RequestServices, requestServices } from './runtime/request-services'
export type { Runtime } from './runtime/runtime'
export { bootRuntime, shutdownRuntime } from './runtime/runtime-lifecycle.server'

/** Builds the runtime from a configuration (no I/O yet). */
export function createRuntime(
  config: ServerConfig,
  options: { clock?: Clock; logger?: Logger } = {},
): Runtime {
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createLogger(config.LOG_LEVEL)
  const rest = createDiscordRest({
    api: config.DISCORD_API_URL,
    token: config.DISCORD_BOT_TOKEN,
    logger: logger.child({ component: 'discord' }),
  })
  const oauth = new OAuthClient({
    rest,
    clientId: config.DISCORD_CLIENT_ID,
    clientSecret: config.DISCORD_CLIENT_SECRET,
    webUrl: config.DISCORD_WEB_URL,
    redirectUri: `${config.PUBLIC_URL}/auth/callback`,
    now: () => clock.now(),
    // Community servers read the user's own guild list: the `guilds` scope.
    ...(config.ROOMS_COMMUNITY ? { scopes: COMMUNITY_OAUTH_SCOPES } : {}),
  })
  // Every Redis client adds these (Sentinel's with REDIS_SENTINELS, else none).
  const redisOptions = redisConnectionOptions(config)
  const redis = config.REDIS_URL
    ? new Redis(config.REDIS_URL, { ...redisOptions, lazyConnect: false, maxRetriesPerRequest: 3 })
    : null
  const prefix = config.REDIS_PREFIX
  // Stores live by layout: Redis on several nodes, DATA_DIR (and memory) on one.
  const stores = createLayoutStores(config, redis, logger)
  const logThrottle = new LogThrottle({ clock })
  const authLog = logger.child({ component: 'auth' })
  const auth = new AuthService({
    oauth,
    secret: config.SESSION_SECRET,
    store: stores.loginSessions,
    secureCookies: config.PUBLIC_URL.startsWith('https://'),
    now: () => clock.now(),
    logger: authLog,
    refusalLog: logThrottle.wrap(authLog),
  })
  const leadership: Leadership = redis
    ? new LeaderLease({
        redis,
        key: `${prefix}leader`,
        ttlMs: config.LEADER_LEASE_MS,
        logger: logger.child({ component: 'leader' }),
      })
    : soleLeader
  const { feed, cluster, voice, guildFeed, voiceReady } = chooseVoiceFeed(
    config,
    redisOptions,
    logger,
  )
  const { rooms: store, serverSettings, viewers } = stores
  const servers = serverSettings
    ? createCommunityServers({
        rest,
        settings: serverSettings,
        guilds: () => guilds,
        clock,
        logger,
      })
    : null

  // RoomService and the presence service depend on each other (RoomEvents / RoomDirectory):
  // the rooms side gets a forwarder that the presence service fills in.
  let presence: PresenceService | null = null
  const events: RoomEvents = {
    publish: (roomId, frame) => presence?.publish(roomId, frame),
    viewerCount: (roomId) => presence?.viewerCount(roomId) ?? 0,
  }
  const discord = new RestDiscordRooms({
    rest,
    guildId: config.DISCORD_GUILD_ID,
    logger: logger.child({ component: 'discord' }),
  })
  // The registry closes a removed guild's rooms; the rooms ask it where rooms may go.
  let roomService: RoomService | null = null
  const guilds = new GuildRegistry({
    pool: config.DISCORD_GUILD_IDS,
    feed: guildFeed,
    check: async (guildId) => guildCheckOf(await checkDiscord(config, rest, guildId)),
    onRemoved: async (guildId) => roomService?.closeGuildRooms(guildId),
    checkOthers: config.ROOMS_COMMUNITY,
    logger: logger.child({ component: 'guilds' }),
  })
  const rooms = new RoomService({
    store,
    discord,
    pool: config.DISCORD_GUILD_IDS,
    placeable: (guildId) => guilds.placeable(guildId),
    reachable: (guildId) => guilds.reachable(guildId),
    // Community servers: a picked server takes the room (under its own limits), and its
    // categories carry its "Category name".
    ...(serverSettings
      ? communityRooms(config.DISCORD_GUILD_IDS, serverSettings, guilds, () => roomService)
      : {}),
    voice,
    events,
    invites: new InviteTokens({ secret: config.SESSION_SECRET, now: () => clock.now() }),
    clock,
    logger: logger.child({ component: 'rooms' }),
    publicUrl: config.PUBLIC_URL,
    discordWebUrl: config.DISCORD_WEB_URL,
    voiceReady,
    isLeader: () => leadership.isLeader,
    // Nodes create rooms concurrently: a fresh channel may not have its room stored yet.
    orphanGraceMs: redis ? 120_000 : 0,
    viewers,
    seatTiming: { graceMs: config.SEAT_GRACE_SECONDS * 1000 },
    ...(stores.codeAttempts ? { codeAttempts: stores.codeAttempts } : {}),
  })
  roomService = rooms
  presence = createPresenceService({
    voice,
    bus: config.REDIS_URL
      ? createRedisEventBus({
          redis: config.REDIS_URL,
          redisOptions,
          keyPrefix: `${prefix}presence:`,
        })
      : undefined,
    rooms,
    viewers,
    logger: logger.child({ component: 'presence' }),
    config,
    authenticate: (request) => readSocketUser(auth, request.headers.get('cookie')),
  })
  // A session that ends, on any node, closes its sockets here.
  auth.sessions.attach(presence)
  const scheduler = new CleanupScheduler({
    target: rooms,
    clock,
    logger: logger.child({ component: 'cleanup' }),
  })
  // A new leader plans its next warning or closing at once.
  leadership.onChange(() => scheduler.poke())
  const { feedMetrics, guildMetrics } = runtimeMetrics(cluster, () => runtime)
  const runtime: Runtime = {
    config,
    logger,
    rest,
    auth,
    feed,
    cluster,
    voice,
    guildFeed,
    guilds,
    feedMetrics,
    guildMetrics,
    store,
    rooms,
    servers,
    serverSettings,
    scheduler,
    presence,
    viewers,
    redis,
    callerLimit: new CallerRateLimit({ now: () => clock.now() }),
    discord,
    missingPermissions: [],
    failingChecks: [],
    leadership,
    logThrottle,
    wsLog: logThrottle.wrap(logger.child({ component: 'ws' })),
  }
  return runtime
}

// ---------------------------------------------------------------------------
// The process-wide runtime
//
// It lives on globalThis because the production build bundles this module twice (the Nitro
// plugin and WebSocket route vs the server-function and route chunks), and both copies must
// share one runtime. Only this module, the request middleware (src/server/middleware/runtime.ts)
// and the separately bundled Nitro pieces (server/) use these functions.
// ---------------------------------------------------------------------------

const g = globalThis as unknown as {
  __runtime?: Runtime
  __runtimeStart?: Promise<Runtime>
  __runtimeStarted?: Runtime
}

/** The process-wide runtime (created lazily, not started). */
export function getRuntime(): Runtime {
  g.__runtime ??= createRuntime(getConfig())
  return g.__runtime
}

/** Creates and starts the process-wide runtime once; later calls share the same start. */
export function startRuntime(): Promise<Runtime> {
  g.__runtimeStart ??= (async () => {
    const runtime = getRuntime()
    await bootRuntime(runtime)
    g.__runtimeStarted = runtime
    return runtime
  })()
  return g.__runtimeStart
}

/** The process-wide runtime once it has started; null before that and once it is stopping. */
export function startedRuntime(): Runtime | null {
  return g.__runtimeStarted ?? null
}

/** Stops the process-wide runtime (SIGTERM). */
export async function stopRuntime(): Promise<void> {
  const runtime = g.__runtime
  if (!runtime) return
  g.__runtime = undefined
  g.__runtimeStart = undefined
  g.__runtimeStarted = undefined
  await shutdownRuntime(runtime)
}

export { ConfigError }
