import { join } from 'node:path'
import {
  type ClusteredVoiceFeed,
  createClusteredVoiceFeed,
  createVoiceFeed,
  FileSessionStore,
  redisConnectionOptions,
  type VoiceFeed,
} from '@repo/discord-gateway'
import {
  COMMUNITY_OAUTH_SCOPES,
  createDiscordRest,
  type DiscordRest,
  OAuthClient,
  type SetupCheck,
} from '@repo/discord-integration'
import { DEFAULT_SERVER_ROOM_SETTINGS } from '@repo/discord-integration/contracts'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { AuthService } from '../features/auth/auth-service.server'
import { FileLoginSessionStore } from '../features/auth/file-login-session-store.server'
import { RedisLoginSessionStore } from '../features/auth/redis-login-session-store.server'
import { readSocketUser } from '../features/auth/session.server'
import { GuildRegistry } from '../features/guilds/guild-registry.server'
import {
  createPresenceService,
  type PresenceService,
} from '../features/presence/presence-service.server'
import { createRedisEventBus } from '../features/presence/redis-event-bus.server'
import { CleanupScheduler } from '../features/rooms/cleanup-scheduler.server'
import { RestDiscordRooms } from '../features/rooms/discord-rooms.server'
import { FileRoomStore } from '../features/rooms/file-room-store.server'
import { InviteTokens } from '../features/rooms/invite-token.server'
import { RedisRoomStore } from '../features/rooms/redis-room-store.server'
import {
  CODE_ATTEMPTS_PER_ADDRESS,
  CODE_ATTEMPTS_PER_USER,
  RoomService,
  type RoomServiceOptions,
} from '../features/rooms/room-service.server'
import type { RoomStore } from '../features/rooms/room-store'
import {
  CommunityServers,
  restCommunityDiscord,
} from '../features/servers/community-servers.server'
import { FileServerSettingsStore } from '../features/servers/file-server-settings-store.server'
import { RedisServerSettingsStore } from '../features/servers/redis-server-settings-store.server'
import type { ServerSettingsStore } from '../features/servers/server-settings-store'
import { CallerRateLimit } from './caller-rate-limit'
import { type Clock, systemClock } from './clock'
import { communityPlacement } from './community-placement'
import { ConfigError, getConfig, type ServerConfig } from './config.server'
import { GuildMetrics } from './guild-metrics.server'
import { LeaderLease, type Leadership, soleLeader } from './leader-lease.server'
import { LogThrottle } from './log-throttle'
import { createLogger } from './logger.server'
import type { GuildFeed, RoomEvents, ViewerRegistry, VoicePresence } from './ports'
import { RedisAttemptLimiter } from './redis-attempt-limiter.server'
import { RedisViewerPresence } from './redis-viewer-presence.server'
import { runtimeHealth } from './runtime-status'
import { checkDiscord, GUILD_CHECK_IDS, guildCheckOf } from './setup-checks.server'
import { MemoryViewerPresence } from './viewer-presence'
import { VoiceFeedMetrics } from './voice-feed-metrics.server'

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
  const logThrottle = new LogThrottle({ clock })
  const authLog = logger.child({ component: 'auth' })
  const auth = new AuthService({
    oauth,
    secret: config.SESSION_SECRET,
    // Login sessions live where the rooms do: Redis on several nodes, DATA_DIR on one.
    store: redis
      ? new RedisLoginSessionStore(redis, prefix)
      : new FileLoginSessionStore(join(config.DATA_DIR, 'sessions.json')),
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
  const intents = { guildMembers: config.DISCORD_GUILD_MEMBERS_INTENT }
  const cluster = config.REDIS_URL
    ? createClusteredVoiceFeed({
        redisUrl: config.REDIS_URL,
        redisOptions,
        prefix,
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
  // Categories stored before guilds were recorded belong to the home guild.
  const storeGuilds = { homeGuildId: config.DISCORD_GUILD_ID }
  const store: RoomStore = redis
    ? new RedisRoomStore(redis, prefix, storeGuilds)
    : new FileRoomStore(join(config.DATA_DIR, 'rooms.json'), storeGuilds)

  // Community servers' settings live where the rooms do: Redis on several nodes, DATA_DIR on one.
  const serverSettings: ServerSettingsStore | null = config.ROOMS_COMMUNITY
    ? redis
      ? new RedisServerSettingsStore(redis, prefix)
      : new FileServerSettingsStore(join(config.DATA_DIR, 'server-settings.json'))
    : null
  const servers = serverSettings
    ? new CommunityServers({
        discord: restCommunityDiscord(rest),
        store: serverSettings,
        now: () => clock.now(),
        logger: logger.child({ component: 'servers' }),
        // The bot in it, no outage, its permissions hold (the guild registry, below).
        placeable: (guildId) => guilds.placeable(guildId),
        // Whether the bot is in a guild, as the gateway reports it, at once (unknown: Discord's list).
        botInGuild: (guildId) => {
          const state = guilds.get(guildId)?.state
          return state === 'available' || state === 'unavailable'
            ? true
            : state === 'removed'
              ? false
              : null
        },
      })
    : null

  // RoomService and the presence service depend on each other (RoomEvents / RoomDirectory):
  // the rooms side gets a forwarder that the presence service fills in.
  let presence: PresenceService | null = null
  const events: RoomEvents = {
    publish: (roomId, frame) => presence?.publish(roomId, frame),
    viewerCount: (roomId) => presence?.viewerCount(roomId) ?? 0,
  }
  const viewers: ViewerRegistry = redis
    ? new RedisViewerPresence({
        redis,
        prefix,
        logger: logger.child({ component: 'viewers' }),
      })
    : new MemoryViewerPresence()
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
    voiceReady: () =>
      cluster
        ? cluster.status().mirror.ready
        : ['ready', 'resuming'].includes(feed?.status().state ?? ''),
    isLeader: () => leadership.isLeader,
    // Nodes create rooms concurrently: a fresh channel may not have its room stored yet.
    orphanGraceMs: redis ? 120_000 : 0,
    viewers,
    seatTiming: { graceMs: config.SEAT_GRACE_SECONDS * 1000 },
    ...(redis
      ? {
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
      : {}),
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
  const callerLimit = new CallerRateLimit({ now: () => clock.now() })
  const guildMetrics = new GuildMetrics(() => {
    const health = runtimeHealth(runtime)
    return { guilds: health.guilds, shards: health.shards }
  })
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
    feedMetrics: cluster ? new VoiceFeedMetrics(() => cluster.status()) : null,
    guildMetrics,
    store,
    rooms,
    servers,
    serverSettings,
    scheduler,
    presence,
    viewers,
    redis,
    callerLimit,
    discord,
    missingPermissions: [],
    failingChecks: [],
    leadership,
    logThrottle,
    wsLog: logThrottle.wrap(logger.child({ component: 'ws' })),
  }
  return runtime
}

/**
 * The rooms' options for community servers (ROOMS_COMMUNITY=1): the placement that serves a picked
 * community server, and the category name its managers chose (the pool's servers keep the default).
 */
function communityRooms(
  pool: readonly string[],
  settings: ServerSettingsStore,
  guilds: GuildRegistry,
  rooms: () => RoomService | null,
): Pick<RoomServiceOptions, 'placement' | 'categoryName'> {
  const settingsOf = async (guildId: string) =>
    (await settings.get(guildId)) ?? DEFAULT_SERVER_ROOM_SETTINGS
  return {
    placement: (poolPlacement) =>
      communityPlacement(poolPlacement, {
        pool,
        settings: settingsOf,
        placeable: (guildId) => guilds.placeable(guildId),
        usage: async (guildIds) =>
          ((await rooms()?.guildUsage(guildIds)) ?? []).filter((u) => guildIds.includes(u.guildId)),
      }),
    categoryName: async (guildId) =>
      pool.includes(guildId) ? null : (await settingsOf(guildId)).categoryName,
  }
}

/** Starts a runtime: voice feed, rooms, reconciliation with Discord, cleanup. */
export async function bootRuntime(runtime: Runtime): Promise<void> {
  const { feed, cluster, rooms, scheduler, logger } = runtime
  await runtime.auth.start()
  // With Redis: reads the voice snapshot, follows the stream and (in-process mode) competes for
  // the gateway lease. Without: connects the one gateway.
  await (cluster ?? feed)?.start()
  // The guilds the gateway knows, and its guild changes from now on.
  runtime.guilds.start()
  // Who has which page open on the other nodes, before a seat is judged on it.
  await runtime.viewers.start()
  // Leadership first: only the leader reconciles below.
  await runtime.leadership.start()
  await rooms.start()
  await checkSetup(runtime)
  try {
    await rooms.reconcile()
  } catch (error) {
    // Discord may be briefly unreachable; the rooms keep working and the next start retries.
    logger.warn({ err: error }, 'reconciliation with discord failed')
  }
  scheduler.start()
  logger.info(
    {
      rooms: rooms.openRooms,
      layout: cluster ? 'cluster' : 'single',
      gatewayMode: runtime.config.GATEWAY_MODE,
    },
    'runtime started',
  )
}

/**
 * The start-up check: the Discord part of `pnpm doctor` (a handful of REST reads, once). What
 * fails is logged as an alert and kept for /api/health; a check Discord did not answer is only
 * logged. It never stops the start: the pages say what is wrong.
 */
async function checkSetup(runtime: Runtime): Promise<void> {
  const { logger } = runtime
  try {
    const [report, ...others] = await Promise.all(
      runtime.config.DISCORD_GUILD_IDS.map((guildId) =>
        checkDiscord(runtime.config, runtime.rest, guildId),
      ),
    )
    if (!report) return
    runtime.config.DISCORD_GUILD_IDS.forEach((guildId, i) => {
      const checked = i === 0 ? report : others[i - 1]
      if (checked) runtime.guilds.setChecked(guildId, guildCheckOf(checked))
    })
    runtime.missingPermissions = report.missingPermissions
    runtime.failingChecks = report.checks.filter((check) => check.status === 'fail')
    // The other pool servers' own checks (their messages name them): /api/health lists them per
    // guild, and a server that fails them takes no rooms while the others do.
    const poolFailures = others.flatMap((other) =>
      other.checks.filter((c) => GUILD_CHECK_IDS.includes(c.id) && c.status === 'fail'),
    )
    if (poolFailures.length > 0) {
      logger.error(
        {
          alert: true,
          failing: poolFailures.map(({ id, message, fix }) => ({ id, message, fix })),
        },
        'a pool server is not set up for rooms: run pnpm doctor (docs/operations.md#a-pool-of-servers)',
      )
    }
    if (runtime.failingChecks.length > 0) {
      logger.error(
        {
          alert: true,
          failing: runtime.failingChecks.map(({ id, message, fix }) => ({ id, message, fix })),
          missing: runtime.missingPermissions,
          installUrl: report.installUrl,
        },
        'the Discord setup is incomplete: run pnpm doctor (docs/discord-setup.md)',
      )
    }
    const unanswered = report.checks.filter((check) => check.status === 'error')
    if (unanswered.length > 0) {
      logger.warn(
        { checks: unanswered.map(({ id, message }) => ({ id, message })) },
        'could not check part of the Discord setup',
      )
    }
  } catch (error) {
    logger.warn({ err: error }, 'could not check the Discord setup')
  }
}

/** Stops a runtime gracefully: the feed keeps its session resumable, stores are flushed. */
export async function shutdownRuntime(runtime: Runtime): Promise<void> {
  runtime.scheduler.stop()
  // Released, not left to expire: another node takes the cleanup over at its next attempt.
  await runtime.leadership.stop()
  runtime.rooms.stop()
  runtime.guilds.stop()
  await runtime.presence.stop()
  await runtime.auth.stop()
  await runtime.viewers.stop()
  // Closes a gateway it leads with 4200 (resumable by the next leader) and releases the lease.
  await (runtime.cluster ?? runtime.feed)?.stop()
  await runtime.store.close()
  await runtime.serverSettings?.close()
  await runtime.redis?.quit().catch(() => undefined)
  runtime.logThrottle.close()
  runtime.logger.info('runtime stopped')
}

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
