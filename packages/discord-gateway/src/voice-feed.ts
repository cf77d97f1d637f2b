import { REST } from '@discordjs/rest'
import type { SessionInfo } from '@discordjs/ws'
import type { VoiceEvent } from '@repo/discord-integration/contracts'
import type { GatewayDispatchPayload } from 'discord-api-types/v10'
import { GatewayCloseCodes, GatewayDispatchEvents } from 'discord-api-types/v10'
import type { Logger } from 'pino'
import { pino } from 'pino'
import type { VoiceEventOrigin } from './cluster/voice-stream-mirror'
import { GatewayError } from './errors'
import type { ConnectionTimings } from './gateway/connection-options'
import { DEFAULT_TIMINGS } from './gateway/connection-options'
import { GatewayConnection } from './gateway/gateway-connection'
import { fetchGatewayInfoWithBackoff } from './gateway/gateway-info'
import { IdentifyBuckets } from './gateway/identify-gate'
import type { GatewayState, GatewayStatus, StatusChange } from './gateway-status'
import { combineStatus, StatusTracker } from './gateway-status'
import type { ShardCursor, StoreStep } from './guilds/guild-store'
import { createShardCursor, GuildStore } from './guilds/guild-store'
import type { GuildChange, GuildVoice, ShardStatus } from './guilds/guild-voice'
import { childLogger } from './logging'
import type { PersistedGatewayV2 } from './session/persisted-gateway'
import type { RestoredGuilds } from './session/persisted-guilds'
import { fromPersisted, toPersisted } from './session/persisted-guilds'
import type { GatewaySessionStore } from './session/session-store'
import { MemorySessionStore } from './session/session-store'
import type { Clock } from './supervision/clock'
import { systemClock } from './supervision/clock'
import type { VoiceSnapshot } from './voice/voice-mirror'

/** Options of {@link createVoiceFeed}. */
export interface VoiceFeedOptions {
  /** Bot token (without the `Bot ` prefix). */
  token: string
  /**
   * How many shards to run (`DISCORD_SHARD_COUNT`). Without it: the count the last run used (kept
   * in the session store, so its sessions resume), else GET /gateway/bot's recommended `shards`;
   * a close 4011 (sharding required) then re-reads the recommendation and reshards. With it, 4011
   * stops the shard with an operator alert (raise or unset the count).
   */
  shardCount?: number
  /**
   * How long a shard waits after READY for the GUILD_CREATE (or GUILD_DELETE) of each guild READY
   * listed before it counts the rest as unavailable (Discord sends nothing for a guild that stays
   * unavailable). @defaultValue 15_000
   */
  guildReadyTimeoutMs?: number
  /** REST base. @defaultValue 'https://discord.com/api' */
  apiUrl?: string
  /** GUILD_MEMBERS is privileged: enable only if it is enabled in the Developer Portal (else close 4014). */
  intents?: { guildMembers?: boolean }
  /** @defaultValue a MemorySessionStore */
  sessionStore?: GatewaySessionStore
  logger?: Logger
  /** Capped exponential backoff with full jitter. @defaultValue the gateway's schedule, `{ baseMs: 1000, maxMs: 30000 }` */
  backoff?: { baseMs?: number; maxMs?: number }
  /** Force a resume after `intervals` heartbeat intervals without a dispatch or ACK. @defaultValue `{ intervals: 3 }` */
  watchdog?: { intervals?: number }
  /** The breaker opens (no IDENTIFY) below `minRemaining` identifies left. @defaultValue `{ minRemaining: 10 }` */
  identifyBudget?: { minRemaining?: number }
  /** A preconfigured @discordjs/rest instance (its token is set to `token`). */
  rest?: REST
  /**
   * Persist the sessions and the voice state of every guild at most this often while dirty (ms).
   * Each save serialises the whole voice state: at 10,000 members, 2.5 MB of JSON and, with the file write, about
   * 7 MB of short-lived allocation. Saved every 5 s under 1,000 events/s, that was a tenth of
   * the server's allocation (V8's sampling heap profiler). A stop saves at once, and after a
   * crash the next process resumes from the saved sequence and Discord replays the rest (or,
   * past its resume window, sends the whole guild again), so a longer interval costs no events.
   * @defaultValue 30_000
   */
  persistIntervalMs?: number
  /** Fine-grained timings (tests). */
  timings?: Partial<ConnectionTimings>
  /** Random source for jitter (tests). */
  random?: () => number
  /** The connection's waits and instants: backoff, identify spacing, watchdog (tests). @defaultValue the system clock */
  clock?: Clock
}

/** The gateway status of the whole feed (its least ready shard's state) and of each shard. */
export interface VoiceFeedStatus extends GatewayStatus {
  shards: ShardStatus[]
  /** Reshards after a close 4011 (sharding required) since start. */
  reshards: number
}

/** The supervised voice feed of every guild the bot is in, over one connection per shard. */
export interface VoiceFeed extends GuildVoice {
  /** Resolves once started (not necessarily ready); never rejects on transient failures. */
  start(): Promise<void>
  /** Persists sessions+state, closes with a resumable code (not 1000) so the next process can resume. */
  stop(): Promise<void>
  /** Listener gets every domain event, in feedSeq order per guild. Returns unsubscribe. */
  subscribe(listener: (event: VoiceEvent, origin?: VoiceEventOrigin) => void): () => void
  /** Current truth of one guild: its members in voice, plus the feedSeq it reflects. */
  snapshot(guildId: string): VoiceSnapshot
  status(): VoiceFeedStatus
  /** Changes of the whole feed's state (see {@link VoiceFeedStatus}). */
  onStatus(listener: (change: StatusChange) => void): () => void
}

/** One shard of the feed: its cursor in the dispatch stream, its connection and status. */
interface ShardRunner {
  readonly cursor: ShardCursor
  readonly status: StatusTracker
  readonly connection: GatewayConnection
  pendingTimer: NodeJS.Timeout | null
}

/** Creates a voice feed. Nothing connects until `start()`. */
export function createVoiceFeed(options: VoiceFeedOptions): VoiceFeed {
  if (!options.token) throw new GatewayError('INVALID_CONFIG', 'token is required')
  const explicitCount = options.shardCount
  if (explicitCount !== undefined && (!Number.isSafeInteger(explicitCount) || explicitCount < 1)) {
    throw new GatewayError('INVALID_CONFIG', 'shardCount must be a positive integer')
  }
  const logger = childLogger(options.logger ?? pino({ name: 'discord-gateway' }), {
    component: 'voice-feed',
  })
  const store = options.sessionStore ?? new MemorySessionStore()
  const rest =
    options.rest ?? new REST({ api: options.apiUrl ?? 'https://discord.com/api', version: '10' })
  rest.setToken(options.token)
  const persistIntervalMs = options.persistIntervalMs ?? 30_000
  const guildReadyTimeoutMs = options.guildReadyTimeoutMs ?? 15_000
  const timings: ConnectionTimings = {
    ...DEFAULT_TIMINGS,
    ...options.timings,
    backoff: { ...DEFAULT_TIMINGS.backoff, ...options.backoff, ...options.timings?.backoff },
    watchdogIntervals:
      options.watchdog?.intervals ??
      options.timings?.watchdogIntervals ??
      DEFAULT_TIMINGS.watchdogIntervals,
    minIdentifyRemaining:
      options.identifyBudget?.minRemaining ??
      options.timings?.minIdentifyRemaining ??
      DEFAULT_TIMINGS.minIdentifyRemaining,
  }

  // Owned by the feed and updated in place by the store (O(1) per voice event). Whatever leaves
  // the feed is a copy taken synchronously (snapshot(), persistence), so it is consistent.
  const guilds = new GuildStore()
  const listeners = new Set<(event: VoiceEvent, origin?: VoiceEventOrigin) => void>()
  const guildListeners = new Set<(change: GuildChange) => void>()
  const statusListeners = new Set<(change: StatusChange) => void>()
  let shards: ShardRunner[] = []
  const clock = options.clock ?? systemClock
  const identifyBuckets = new IdentifyBuckets(clock, timings.identifySpacingMs)
  /** Shown while no shard runs yet (GET /gateway/bot for the shard count). */
  const bootstrap = new StatusTracker()
  const halt = new AbortController()
  let reshards = 0
  /** Resharding (one at a time; a second 4011 meanwhile is the same reshard). */
  let resharding: Promise<void> | null = null
  let combinedState: GatewayState = 'idle'
  let dirty = false
  let persistTimer: NodeJS.Timeout | null = null
  let saving: Promise<void> = Promise.resolve()
  let started = false
  let stopped = false
  let markReady: () => void = () => {}
  const readyPromise = new Promise<void>((resolve) => {
    markReady = resolve
  })

  const checkReady = (): void => {
    if (shards.length > 0 && shards.every((s) => s.cursor.settled)) markReady()
  }

  const emit = (steps: readonly StoreStep[], status: StatusTracker | null): void => {
    for (const step of steps) {
      if (step.kind === 'guild') {
        logger.info({ change: step.change }, step.change.type)
        for (const listener of guildListeners) {
          try {
            listener(step.change)
          } catch (error) {
            logger.error({ err: error, change: step.change }, 'guild listener threw')
          }
        }
        continue
      }
      for (const event of step.events) {
        status?.count('voiceEventsEmitted')
        logger.debug({ event }, event.type)
        for (const listener of listeners) {
          try {
            listener(event)
          } catch (error) {
            logger.error(
              { err: error, guildId: event.guildId, feedSeq: event.feedSeq },
              'voice feed listener threw',
            )
          }
        }
      }
    }
  }

  const expirePending = (runner: ShardRunner): void => {
    runner.pendingTimer = null
    if (runner.cursor.pending.size === 0) return
    logger.warn(
      { shardId: runner.cursor.id, guilds: [...runner.cursor.pending] },
      'guilds of READY still not created: counting them as unavailable',
    )
    const steps = guilds.expirePending(runner.cursor)
    dirty = true
    emit(steps, runner.status)
    checkReady()
  }

  const onDispatch = (runner: ShardRunner, payload: GatewayDispatchPayload, receivedAt: number) => {
    const result = guilds.apply(runner.cursor, payload, receivedAt)
    if (result.changed) dirty = true
    if (payload.t === GatewayDispatchEvents.Ready && !result.duplicate) {
      if (runner.pendingTimer) clearTimeout(runner.pendingTimer)
      runner.pendingTimer = null
      if (!runner.cursor.settled) {
        runner.pendingTimer = setTimeout(() => expirePending(runner), guildReadyTimeoutMs)
        runner.pendingTimer.unref()
      }
    }
    emit(result.steps, runner.status)
    checkReady()
  }

  const shardStatuses = (): GatewayStatus[] =>
    shards.length > 0 ? shards.map((s) => s.status.get()) : [bootstrap.get()]

  const onShardStatus = (): void => {
    if (resharding) return // the old shards stop; the new ones report
    const status = combineStatus(shardStatuses())
    if (status.state === combinedState) return
    const change: StatusChange = { from: combinedState, to: status.state, status }
    combinedState = status.state
    for (const listener of statusListeners) {
      try {
        listener(change)
      } catch {
        // a listener's failure must not break the feed
      }
    }
  }

  bootstrap.onChange(onShardStatus)

  const createRunner = (cursor: ShardCursor, session: SessionInfo | null): ShardRunner => {
    const status = new StatusTracker()
    const shardLogger = logger.child({ shardId: cursor.id, shardCount: cursor.count })
    const runner: ShardRunner = {
      cursor,
      status,
      pendingTimer: null,
      connection: new GatewayConnection({
        token: options.token,
        guildMembersIntent: options.intents?.guildMembers ?? false,
        shard: { id: cursor.id, count: cursor.count },
        identifyBuckets,
        onFatalClose: (code) => {
          if (code === GatewayCloseCodes.ShardingRequired && explicitCount === undefined) {
            void reshard(cursor.count)
          }
        },
        rest,
        logger: shardLogger,
        status,
        timings,
        ...(options.random ? { random: options.random } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
        onDispatch: (payload, receivedAt) => onDispatch(runner, payload, receivedAt),
        appliedSequence: (sessionId) => (cursor.sessionId === sessionId ? cursor.seq : null),
      }),
    }
    if (session) runner.connection.setSession(session)
    status.onChange(onShardStatus)
    return runner
  }

  /** The consistent picture: each shard's session at the sequence its guilds reflect. */
  const persisted = (): PersistedGatewayV2 =>
    toPersisted(
      shards.map((s) => ({ cursor: s.cursor, session: s.connection.currentSession() })),
      guilds,
    )

  const persistNow = (): Promise<void> => {
    dirty = false
    const value = persisted()
    saving = saving
      .then(() => store.save(value))
      .catch((error: unknown) => {
        dirty = true
        for (const s of shards) {
          s.status.patch({
            lastError: { message: 'saving the gateway session failed', at: Date.now() },
          })
        }
        logger.error({ err: error }, 'saving the gateway session failed')
      })
    return saving
  }

  const schedulePersist = (): void => {
    persistTimer = setTimeout(() => {
      if (dirty) void persistNow()
      if (!stopped) schedulePersist()
    }, persistIntervalMs)
    persistTimer.unref()
  }

  /** GET /gateway/bot (retried with backoff until it answers): the recommended shard count. */
  const recommendedCount = async (): Promise<number> => {
    bootstrap.setState('connecting')
    const info = await fetchGatewayInfoWithBackoff({
      rest,
      clock,
      backoff: timings.backoff,
      random: options.random ?? Math.random,
      signal: halt.signal,
      onRetry: (error, retry, delayMs) => {
        bootstrap.patch({
          lastError: { message: `GET /gateway/bot failed (attempt ${retry})`, at: Date.now() },
        })
        bootstrap.setState('backing_off')
        logger.error(
          { err: error, retry, delayMs },
          `GET /gateway/bot failed (attempt ${retry}); retrying in ${delayMs} ms`,
        )
      },
    })
    return Math.max(1, info.shards)
  }

  /** Starts one runner per shard of `count`, resuming the sessions `restored` holds for that count. */
  const run = (count: number, restored: RestoredGuilds | null): void => {
    if (stopped) return
    const cursors: ShardCursor[] = []
    const sessions = new Map<number, SessionInfo>()
    const sameCount = restored?.shards.every((s) => s.cursor.count === count) === true
    if (restored && sameCount) {
      for (const s of restored.shards) {
        cursors[s.cursor.id] = s.cursor
        if (s.session) sessions.set(s.cursor.id, s.session)
      }
    } else if (restored) {
      guilds.reshard(count)
      logger.info(
        { from: restored.shards[0]?.cursor.count, to: count },
        'the shard count changed since the last run: identifying every shard, voice state kept',
      )
    }
    shards = Array.from({ length: count }, (_, id) =>
      createRunner(cursors[id] ?? createShardCursor(id, count), sessions.get(id) ?? null),
    )
    logger.info({ shards: count, resumable: sessions.size }, `running ${count} shard(s)`)
    checkReady()
    for (const runner of shards) runner.connection.start()
    onShardStatus()
  }

  /**
   * Close 4011 on a shard of `fromCount`: every shard stops, the recommendation is read again, and
   * the feed runs the new count (at least one more). The voice state is held per guild, not per
   * shard, so nothing is lost: each guild's GUILD_CREATE on its new shard is diffed against it.
   */
  const reshard = (fromCount: number): Promise<void> => {
    if (resharding || stopped || shards[0]?.cursor.count !== fromCount) {
      return resharding ?? Promise.resolve()
    }
    logger.warn(
      { alert: true, fromCount },
      'gateway closed with 4011 (sharding required): resharding',
    )
    resharding = (async () => {
      const old = shards
      for (const runner of old) if (runner.pendingTimer) clearTimeout(runner.pendingTimer)
      await Promise.all(old.map((runner) => runner.connection.stop('resharding')))
      let count: number
      try {
        count = Math.max(await recommendedCount(), fromCount + 1)
      } catch {
        return // stopped meanwhile
      }
      reshards++
      guilds.reshard(count)
      resharding = null
      run(count, null)
      dirty = true
    })().finally(() => {
      resharding = null
    })
    return resharding
  }

  return {
    async start() {
      if (started) return
      started = true
      let saved: Awaited<ReturnType<GatewaySessionStore['load']>> = null
      try {
        saved = await store.load()
      } catch (error) {
        logger.error({ err: error }, 'loading the gateway session failed; starting fresh')
      }
      const restored = saved ? fromPersisted(saved) : null
      if (restored) {
        for (const guild of restored.guilds) guilds.restore(guild.presence, guild.state)
        logger.info({ guilds: restored.guilds.length }, 'restored persisted voice state')
      }
      schedulePersist()
      const count = explicitCount ?? restored?.shards[0]?.cursor.count
      if (count !== undefined) {
        run(count, restored)
        return
      }
      // No count yet: ask Discord (in the background: start() does not wait for REST).
      void recommendedCount().then(
        (recommended) => run(recommended, restored),
        () => {}, // stopped meanwhile
      )
    },

    async stop() {
      if (stopped) return
      stopped = true
      halt.abort()
      await resharding
      if (persistTimer) clearTimeout(persistTimer)
      for (const runner of shards) if (runner.pendingTimer) clearTimeout(runner.pendingTimer)
      await Promise.all(shards.map((runner) => runner.connection.stop()))
      await persistNow()
    },

    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },

    onGuild(listener) {
      guildListeners.add(listener)
      return () => {
        guildListeners.delete(listener)
      }
    },

    guilds: () => guilds.guilds(),
    snapshot: (guildId) => guilds.snapshot(guildId),
    channelMembers: (channelId) => guilds.channelMembers(channelId),
    memberChannel: (guildId, userId) => guilds.memberChannel(guildId, userId),

    status() {
      const perShard = shardStatuses()
      const count = new Map<number, { guilds: number; unavailable: number }>()
      for (const guild of guilds.guilds()) {
        const c = count.get(guild.shardId) ?? { guilds: 0, unavailable: 0 }
        c.guilds++
        if (!guild.available) c.unavailable++
        count.set(guild.shardId, c)
      }
      return {
        ...combineStatus(perShard),
        reshards,
        shards: shards.map((s, i) => ({
          id: s.cursor.id,
          count: s.cursor.count,
          state: perShard[i]?.state ?? 'idle',
          guilds: count.get(s.cursor.id)?.guilds ?? 0,
          unavailableGuilds: count.get(s.cursor.id)?.unavailable ?? 0,
        })),
      }
    },

    onStatus(listener) {
      statusListeners.add(listener)
      return () => {
        statusListeners.delete(listener)
      }
    },

    ready(timeoutMs) {
      if (timeoutMs === undefined) return readyPromise
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new GatewayError('READY_TIMEOUT', `voice feed not ready after ${timeoutMs} ms`)),
          timeoutMs,
        )
        readyPromise.then(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    },
  }
}

export type { GatewayState, GatewayStatus }
