import { REST } from '@discordjs/rest'
import type { SessionInfo } from '@discordjs/ws'
import type { VoiceEvent } from '@repo/discord-integration/contracts'
import type { GatewayDispatchPayload } from 'discord-api-types/v10'
import { GatewayCloseCodes, GatewayDispatchEvents } from 'discord-api-types/v10'
import { pino } from 'pino'
import type { VoiceEventOrigin } from './cluster/mirror-contract'
import { GatewayConnection } from './gateway/gateway-connection'
import { recommendedShardCount } from './gateway/gateway-info'
import { IdentifyBuckets } from './gateway/identify-gate'
import type { GatewayState, GatewayStatus, StatusChange } from './gateway-status'
import { combineStatus, StatusTracker } from './gateway-status'
import type { ShardCursor, StoreStep } from './guilds/guild-store'
import { createShardCursor, GuildStore } from './guilds/guild-store'
import type { GuildChange, GuildVoice } from './guilds/guild-voice'
import { childLogger } from './logging'
import { FeedPersistence } from './session/feed-persistence'
import type { RestoredGuilds } from './session/persisted-guilds'
import { fromPersisted, toPersisted } from './session/persisted-guilds'
import type { GatewaySessionStore } from './session/session-store'
import { MemorySessionStore } from './session/session-store'
import { systemClock } from './supervision/clock'
import { Listeners } from './supervision/listeners'
import { readyWithin } from './supervision/ready-latch'
import type { VoiceSnapshot } from './voice/voice-mirror'
import type { VoiceFeedOptions } from './voice-feed-options'
import { checkFeedOptions, feedTimings } from './voice-feed-options'
import type { VoiceFeedStatus } from './voice-feed-status'
import { voiceFeedStatus } from './voice-feed-status'

export type { VoiceFeedOptions } from './voice-feed-options'
export type { VoiceFeedStatus } from './voice-feed-status'

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
  checkFeedOptions(options)
  const explicitCount = options.shardCount
  const logger = childLogger(options.logger ?? pino({ name: 'discord-gateway' }), {
    component: 'voice-feed',
  })
  const store = options.sessionStore ?? new MemorySessionStore()
  const rest =
    options.rest ?? new REST({ api: options.apiUrl ?? 'https://discord.com/api', version: '10' })
  rest.setToken(options.token)
  const guildReadyTimeoutMs = options.guildReadyTimeoutMs ?? 15_000
  const timings = feedTimings(options)

  // Owned by the feed and updated in place by the store (O(1) per voice event). Whatever leaves
  // the feed is a copy taken synchronously (snapshot(), persistence), so it is consistent.
  const guilds = new GuildStore()
  const listeners = new Listeners<[event: VoiceEvent, origin?: VoiceEventOrigin]>()
  const guildListeners = new Listeners<[change: GuildChange]>()
  const statusListeners = new Listeners<[change: StatusChange]>()
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
  const persistence = new FeedPersistence({
    store,
    intervalMs: options.persistIntervalMs ?? 30_000,
    // The consistent picture: each shard's session at the sequence its guilds reflect.
    value: () =>
      toPersisted(
        shards.map((s) => ({ cursor: s.cursor, session: s.connection.currentSession() })),
        guilds,
      ),
    onError: (error) => {
      for (const s of shards) {
        s.status.patch({
          lastError: { message: 'saving the gateway session failed', at: Date.now() },
        })
      }
      logger.error({ err: error }, 'saving the gateway session failed')
    },
  })
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
        guildListeners.notify([step.change], (error) =>
          logger.error({ err: error, change: step.change }, 'guild listener threw'),
        )
        continue
      }
      for (const event of step.events) {
        status?.count('voiceEventsEmitted')
        logger.debug({ event }, event.type)
        listeners.notify([event], (error) =>
          logger.error(
            { err: error, guildId: event.guildId, feedSeq: event.feedSeq },
            'voice feed listener threw',
          ),
        )
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
    persistence.markDirty()
    emit(steps, runner.status)
    checkReady()
  }

  const onDispatch = (runner: ShardRunner, payload: GatewayDispatchPayload, receivedAt: number) => {
    const result = guilds.apply(runner.cursor, payload, receivedAt)
    if (result.changed) persistence.markDirty()
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
    statusListeners.notify([change], () => {
      // a listener's failure must not break the feed
    })
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

  /** GET /gateway/bot (retried with backoff until it answers): the recommended shard count. */
  const recommendedCount = (): Promise<number> =>
    recommendedShardCount(
      {
        rest,
        clock,
        backoff: timings.backoff,
        random: options.random ?? Math.random,
        signal: halt.signal,
      },
      bootstrap,
      logger,
    )

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
      persistence.markDirty()
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
      persistence.start()
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
      persistence.stop()
      for (const runner of shards) if (runner.pendingTimer) clearTimeout(runner.pendingTimer)
      await Promise.all(shards.map((runner) => runner.connection.stop()))
      await persistence.saveNow()
    },

    subscribe: (listener) => listeners.add(listener),
    onGuild: (listener) => guildListeners.add(listener),

    guilds: () => guilds.guilds(),
    snapshot: (guildId) => guilds.snapshot(guildId),
    channelMembers: (channelId) => guilds.channelMembers(channelId),
    memberChannel: (guildId, userId) => guilds.memberChannel(guildId, userId),

    status: () =>
      voiceFeedStatus(
        shards.map((s) => s.cursor),
        shardStatuses(),
        guilds.guilds(),
        reshards,
      ),

    onStatus: (listener) => statusListeners.add(listener),
    ready: (timeoutMs) => readyWithin(readyPromise, timeoutMs, 'voice feed'),
  }
}

export type { GatewayState, GatewayStatus }
