import { REST } from '@discordjs/rest'
import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { GatewayDispatchPayload } from 'discord-api-types/v10'
import type { Logger } from 'pino'
import { pino } from 'pino'
import { GatewayError } from './errors'
import type { ConnectionTimings } from './gateway/connection-options'
import { DEFAULT_TIMINGS } from './gateway/connection-options'
import { GatewayConnection } from './gateway/gateway-connection'
import type { GatewayState, GatewayStatus, StatusChange } from './gateway-status'
import { StatusTracker } from './gateway-status'
import { childLogger } from './logging'
import type { PersistedGateway } from './session/persisted-gateway'
import { persistVoiceState, restoreVoiceState } from './session/persisted-gateway'
import type { GatewaySessionStore } from './session/session-store'
import { MemorySessionStore } from './session/session-store'
import type { Clock } from './supervision/clock'
import { ChannelIndex } from './voice/channel-index'
import type { VoiceReadApi, VoiceSnapshot } from './voice/voice-mirror'
import { sortMembers } from './voice/voice-mirror'
import type { VoiceStoreState } from './voice/voice-state-reducer'
import { applyDispatch, createVoiceStoreState } from './voice/voice-state-reducer'

/** Options of {@link createVoiceFeed}. */
export interface VoiceFeedOptions {
  /** Bot token (without the `Bot ` prefix). */
  token: string
  /** The one guild whose voice states the feed tracks; dispatches for other guilds are ignored. */
  guildId: string
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
   * Persist the session+state pair at most this often while dirty (ms). Each save serialises the
   * whole guild's voice state: at 10,000 members, 2.5 MB of JSON and, with the file write, about
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

/** The supervised voice feed of one guild. */
export interface VoiceFeed extends VoiceReadApi {
  /** Resolves once started (not necessarily ready); never rejects on transient failures. */
  start(): Promise<void>
  /** Persists session+state, closes with a resumable code (not 1000) so the next process can resume. */
  stop(): Promise<void>
  /** Listener gets every domain event in feedSeq order. Returns unsubscribe. */
  subscribe(listener: (event: VoiceEvent) => void): () => void
  /** Current truth: all members in voice in the guild, plus the feedSeq it reflects. */
  snapshot(): VoiceSnapshot
  channelMembers(channelId: string): VoiceMember[]
  memberChannel(userId: string): string | null
  status(): GatewayStatus
  onStatus(listener: (change: StatusChange) => void): () => void
  /** Resolves when the feed has a complete snapshot (first GUILD_CREATE applied or persisted state restored). */
  ready(timeoutMs?: number): Promise<void>
}

/** Creates a voice feed. Nothing connects until `start()`. */
export function createVoiceFeed(options: VoiceFeedOptions): VoiceFeed {
  if (!options.token) throw new GatewayError('INVALID_CONFIG', 'token is required')
  if (!/^\d{17,20}$/.test(options.guildId)) {
    throw new GatewayError('INVALID_CONFIG', 'guildId must be a snowflake')
  }
  const logger = childLogger(options.logger ?? pino({ name: 'discord-gateway' }), {
    component: 'voice-feed',
    guildId: options.guildId,
  })
  const store = options.sessionStore ?? new MemorySessionStore()
  const rest =
    options.rest ?? new REST({ api: options.apiUrl ?? 'https://discord.com/api', version: '10' })
  rest.setToken(options.token)
  const status = new StatusTracker()
  const persistIntervalMs = options.persistIntervalMs ?? 30_000
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

  // Owned by the feed and updated in place by applyDispatch (O(1) per voice event). Whatever
  // leaves the feed is a copy taken synchronously (snapshot(), persistence), so it is consistent.
  let state: VoiceStoreState = createVoiceStoreState(options.guildId)
  let channels = new ChannelIndex()
  const listeners = new Set<(event: VoiceEvent) => void>()
  let dirty = false
  let persistTimer: NodeJS.Timeout | null = null
  let saving: Promise<void> = Promise.resolve()
  let started = false
  let stopped = false
  let markReady: () => void = () => {}
  const readyPromise = new Promise<void>((resolve) => {
    markReady = resolve
  })

  const onDispatch = (payload: GatewayDispatchPayload, receivedAt: number): void => {
    const result = applyDispatch(state, { payload, receivedAt })
    if (result.changed) dirty = true
    // The index follows the whole dispatch before any listener runs, like the member map.
    for (const event of result.events) channels.apply(event)
    for (const event of result.events) {
      status.count('voiceEventsEmitted')
      logger.debug({ event }, event.type)
      for (const listener of listeners) {
        try {
          listener(event)
        } catch (error) {
          logger.error({ err: error, feedSeq: event.feedSeq }, 'voice feed listener threw')
        }
      }
    }
    if (state.synced) markReady()
  }

  const connection = new GatewayConnection({
    token: options.token,
    guildMembersIntent: options.intents?.guildMembers ?? false,
    rest,
    logger,
    status,
    timings,
    ...(options.random ? { random: options.random } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    onDispatch,
    appliedSequence: (sessionId) => (state.sessionId === sessionId ? state.seq : null),
  })

  /** The consistent pair: the session at the sequence the voice state reflects. */
  const persisted = (): PersistedGateway => {
    const session = connection.currentSession()
    const consistent =
      session && session.sessionId === state.sessionId ? { ...session, sequence: state.seq } : null
    return {
      v: 1,
      guildId: options.guildId,
      savedAt: Date.now(),
      session: consistent
        ? {
            sessionId: consistent.sessionId,
            sequence: consistent.sequence,
            resumeURL: consistent.resumeURL,
            shardId: consistent.shardId,
            shardCount: consistent.shardCount,
          }
        : null,
      voice: persistVoiceState(state),
    }
  }

  const persistNow = (): Promise<void> => {
    dirty = false
    const value = persisted()
    saving = saving
      .then(() => store.save(value))
      .catch((error: unknown) => {
        dirty = true
        status.patch({
          lastError: { message: 'saving the gateway session failed', at: Date.now() },
        })
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
      let saved: PersistedGateway | null = null
      try {
        saved = await store.load()
      } catch (error) {
        logger.error({ err: error }, 'loading the gateway session failed; starting fresh')
      }
      if (saved && saved.guildId === options.guildId) {
        state = restoreVoiceState(options.guildId, saved.voice)
        channels = ChannelIndex.of(state.members.values())
        if (saved.session && saved.session.sessionId === state.sessionId) {
          connection.setSession({ ...saved.session, sequence: state.seq })
        }
        logger.info(
          { feedSeq: state.feedSeq, seq: state.seq, resumable: saved.session !== null },
          'restored persisted voice state',
        )
        if (state.synced) markReady()
      }
      schedulePersist()
      connection.start()
    },

    async stop() {
      if (stopped) return
      stopped = true
      if (persistTimer) clearTimeout(persistTimer)
      await connection.stop()
      await persistNow()
    },

    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },

    snapshot() {
      return {
        guildId: options.guildId,
        feedSeq: state.feedSeq,
        members: sortMembers(state.members.values()),
      }
    },

    channelMembers(channelId) {
      return channels.members(channelId)
    },

    memberChannel(userId) {
      return state.members.get(userId)?.channelId ?? null
    },

    status() {
      return status.get()
    },

    onStatus(listener) {
      return status.onChange(listener)
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
