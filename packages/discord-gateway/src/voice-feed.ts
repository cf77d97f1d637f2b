import { REST } from '@discordjs/rest'
import type { SessionInfo } from '@discordjs/ws'
import type { VoiceEvent } from '@repo/discord-integration/contracts'
import type { GatewayDispatchPayload } from 'discord-api-types/v10'
import { GatewayDispatchEvents } from 'discord-api-types/v10'
import type { Logger } from 'pino'
import { pino } from 'pino'
import type { VoiceEventOrigin } from './cluster/voice-stream-mirror'
import { GatewayError } from './errors'
import type { ConnectionTimings } from './gateway/connection-options'
import { DEFAULT_TIMINGS } from './gateway/connection-options'
import { GatewayConnection } from './gateway/gateway-connection'
import type { GatewayState, GatewayStatus, StatusChange } from './gateway-status'
import { combineStatus, StatusTracker } from './gateway-status'
import type { ShardCursor, StoreStep } from './guilds/guild-store'
import { createShardCursor, GuildStore } from './guilds/guild-store'
import type { GuildChange, GuildVoice, ShardStatus } from './guilds/guild-voice'
import { childLogger } from './logging'
import type { PersistedGatewayV2 } from './session/persisted-gateway'
import { fromPersisted, toPersisted } from './session/persisted-guilds'
import type { GatewaySessionStore } from './session/session-store'
import { MemorySessionStore } from './session/session-store'
import type { Clock } from './supervision/clock'
import type { VoiceSnapshot } from './voice/voice-mirror'

/** Options of {@link createVoiceFeed}. */
export interface VoiceFeedOptions {
  /** Bot token (without the `Bot ` prefix). */
  token: string
  /**
   * How many shards to run (`DISCORD_SHARD_COUNT`). @defaultValue 1
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
  const shardCount = options.shardCount ?? 1
  if (!Number.isSafeInteger(shardCount) || shardCount < 1) {
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

  const onShardStatus = (): void => {
    const status = combineStatus(shards.map((s) => s.status.get()))
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
      const cursors: ShardCursor[] = []
      const sessions = new Map<number, SessionInfo>()
      if (restored) {
        for (const guild of restored.guilds) guilds.restore(guild.presence, guild.state)
        const sameCount = restored.shards.every((s) => s.cursor.count === shardCount)
        if (sameCount) {
          for (const s of restored.shards) {
            cursors[s.cursor.id] = s.cursor
            if (s.session) sessions.set(s.cursor.id, s.session)
          }
        } else {
          guilds.reshard(shardCount)
          logger.info(
            { from: restored.shards[0]?.cursor.count, to: shardCount },
            'shard count changed since the last run: identifying every shard, voice state kept',
          )
        }
        logger.info(
          { guilds: restored.guilds.length, resumable: sessions.size },
          'restored persisted voice state',
        )
      }
      shards = Array.from({ length: shardCount }, (_, id) =>
        createRunner(cursors[id] ?? createShardCursor(id, shardCount), sessions.get(id) ?? null),
      )
      checkReady()
      schedulePersist()
      for (const runner of shards) runner.connection.start()
    },

    async stop() {
      if (stopped) return
      stopped = true
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
      const perShard = shards.map((s) => s.status.get())
      const count = new Map<number, { guilds: number; unavailable: number }>()
      for (const guild of guilds.guilds()) {
        const c = count.get(guild.shardId) ?? { guilds: 0, unavailable: 0 }
        c.guilds++
        if (!guild.available) c.unavailable++
        count.set(guild.shardId, c)
      }
      return {
        ...combineStatus(perShard),
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
