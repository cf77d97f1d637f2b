import type { REST } from '@discordjs/rest'
import type { FetchingStrategyOptions, IContextFetchingStrategy, SessionInfo } from '@discordjs/ws'
import {
  DefaultWebSocketManagerOptions,
  Encoding,
  WebSocketShard,
  WebSocketShardDestroyRecovery,
  WebSocketShardEvents,
  WebSocketShardStatus,
} from '@discordjs/ws'
import type { APIGatewayBotInfo, GatewayDispatchPayload } from 'discord-api-types/v10'
import { GatewayDispatchEvents, GatewayIntentBits, Routes } from 'discord-api-types/v10'
import type { Logger } from 'pino'
import type { StatusTracker } from '../gateway-status'
import type { BackoffOptions } from '../supervision/backoff'
import { fullJitterDelay, sleep } from '../supervision/backoff'
import { fatalCloseReason } from '../supervision/close-codes'

/** Timings of the connection; all injectable so tests run fast. */
export interface ConnectionTimings {
  backoff: BackoffOptions
  /** Silent-socket watchdog: force a resume after this many heartbeat intervals without a dispatch or ACK. */
  watchdogIntervals: number
  /** Heartbeat interval assumed until the library reports the real one (ms). */
  defaultHeartbeatMs: number
  /** Minimum spacing between two IDENTIFYs (Discord allows max_concurrency per 5 s). */
  identifySpacingMs: number
  /** Breaker: do not identify while fewer identifies than this remain in the daily budget. */
  minIdentifyRemaining: number
  handshakeTimeoutMs: number
  helloTimeoutMs: number
  readyTimeoutMs: number
  /** Network-error closes after which a kept session is given up in favour of IDENTIFY. */
  maxNetworkResumes: number
}

export const DEFAULT_TIMINGS: ConnectionTimings = {
  backoff: { baseMs: 1000, maxMs: 30_000 },
  watchdogIntervals: 3,
  defaultHeartbeatMs: 41_250,
  identifySpacingMs: 5_000,
  minIdentifyRemaining: 10,
  handshakeTimeoutMs: 30_000,
  helloTimeoutMs: 60_000,
  readyTimeoutMs: 15_000,
  maxNetworkResumes: 3,
}

/** Everything the connection needs from its owner (the voice feed). */
export interface GatewayConnectionOptions {
  token: string
  guildMembersIntent: boolean
  rest: REST
  logger: Logger
  status: StatusTracker
  timings: ConnectionTimings
  random?: () => number
  /** Called for every dispatch, synchronously and in arrival order. */
  onDispatch(payload: GatewayDispatchPayload, receivedAt: number): void
  /** The sequence the consumer has applied for a session (the library must resume from there). */
  appliedSequence(sessionId: string): number | null
}

const SHARD_ID = 0

/** Milliseconds since the epoch with sub-millisecond precision. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now()
}

/**
 * One supervised gateway connection on @discordjs/ws's WebSocketShard. The library keeps the protocol
 * (heartbeats, resume vs identify, close-code handling); this class adds what it lacks: backoff with full
 * jitter on every (re)connect, a silent-socket watchdog, an identify-budget breaker and identify spacing,
 * a stop on fatal codes, resumable session keeping across network errors, and session persistence hooks.
 */
export class GatewayConnection {
  #shard: WebSocketShard | null = null
  #gatewayInfo: APIGatewayBotInfo | null = null
  #session: SessionInfo | null = null
  /** Set once, by #halt: the connection is stopping or stopped for good. */
  #halted: Promise<void> | null = null
  #retry = 0
  #gate: Promise<SessionInfo | null> | null = null
  #networkErrorSinceHello = false
  #networkResumes = 0
  #heartbeatMs: number
  #lastActivity = 0
  #helloSeen = false
  #watchdog: NodeJS.Timeout | null = null
  #lastIdentifyAt = 0
  readonly #stopController = new AbortController()
  readonly #random: () => number
  readonly #log: Logger
  readonly #options: GatewayConnectionOptions

  constructor(options: GatewayConnectionOptions) {
    this.#options = options
    this.#random = options.random ?? Math.random
    this.#heartbeatMs = options.timings.defaultHeartbeatMs
    this.#log = options.logger
  }

  /** The session to resume with (set from persistence before start). */
  setSession(session: SessionInfo | null): void {
    this.#session = session
  }

  /** The library's current session info (null = the next connect identifies). */
  currentSession(): SessionInfo | null {
    return this.#session
  }

  /** Starts connecting in the background; never rejects on transient failures. */
  start(): void {
    this.#setState('connecting')
    void this.#run()
  }

  /** Closes with a resumable code (4200, not 1000) so a later process can resume the session. */
  stop(reason = 'stopped by request'): Promise<void> {
    return this.#halt({ reason, socketOpen: true })
  }

  /**
   * The one way the connection stops, whoever asks (`stop()` or a fatal close code): our waits
   * are aborted, the watchdog ends, any connect the library attempts from now on is parked in
   * #beforeConnect, an open socket is closed with 4200 (resumable, so the next process resumes
   * the session), and the state becomes `stopped` with its reason. Runs once; later calls get
   * the same promise.
   */
  #halt(how: { reason: string; socketOpen: boolean }): Promise<void> {
    // #halted is set before any step runs: the library calls back into us while we close it.
    this.#halted ??= Promise.resolve().then(async () => {
      this.#stopController.abort()
      this.#clearWatchdog()
      const shard = this.#shard
      if (how.socketOpen && shard && shard.status !== WebSocketShardStatus.Idle) {
        try {
          await shard.destroy({ code: 4200, reason: 'process stopping; session kept for resume' })
        } catch (error) {
          this.#log.warn({ err: error }, 'error while closing the gateway socket')
        }
      }
      this.#options.status.patch({ stoppedReason: how.reason })
      this.#setState('stopped')
    })
    return this.#halted
  }

  #setState(to: Parameters<StatusTracker['setState']>[0]): void {
    const change = this.#options.status.setState(to)
    if (change)
      this.#log.info({ from: change.from, to: change.to }, `gateway ${change.from} -> ${change.to}`)
  }

  #recordError(message: string, error?: unknown, fields: Record<string, unknown> = {}): void {
    this.#options.status.patch({ lastError: { message, at: Date.now() } })
    this.#log.error({ ...fields, err: error }, message)
  }

  /** Fetches GET /gateway/bot until it succeeds (backoff, forever), then opens the shard. */
  async #run(): Promise<void> {
    let attempt = 0
    while (!this.#halted) {
      try {
        this.#gatewayInfo = await this.#fetchGatewayInfo()
        break
      } catch (error) {
        attempt++
        const delay = fullJitterDelay(attempt, this.#options.timings.backoff, this.#random)
        this.#recordError(
          `GET /gateway/bot failed (attempt ${attempt}); retrying in ${delay} ms`,
          error,
        )
        this.#setState('backing_off')
        try {
          await sleep(delay, this.#stopController.signal)
        } catch {
          return
        }
        this.#setState('connecting')
      }
    }
    if (this.#halted) return
    this.#openShard()
  }

  async #fetchGatewayInfo(): Promise<APIGatewayBotInfo> {
    const info = (await this.#options.rest.get(Routes.gatewayBot(), {
      signal: this.#stopController.signal,
    })) as APIGatewayBotInfo
    const limit = info.session_start_limit
    this.#options.status.patch({
      identifyBudget: {
        remaining: limit.remaining,
        total: limit.total,
        resetAt: Date.now() + limit.reset_after,
      },
    })
    return info
  }

  #openShard(): void {
    const connection = this
    const t = this.#options.timings
    const intents =
      GatewayIntentBits.Guilds |
      GatewayIntentBits.GuildVoiceStates |
      (this.#options.guildMembersIntent ? GatewayIntentBits.GuildMembers : 0)
    const strategyOptions: FetchingStrategyOptions = {
      get gatewayInformation() {
        return connection.#gatewayInfo as APIGatewayBotInfo
      },
      shardCount: 1,
      token: this.#options.token,
      intents,
      version: '10',
      encoding: Encoding.JSON,
      compression: null,
      useIdentifyCompression: false,
      handshakeTimeout: t.handshakeTimeoutMs,
      helloTimeout: t.helloTimeoutMs,
      readyTimeout: t.readyTimeoutMs,
      identifyProperties: DefaultWebSocketManagerOptions.identifyProperties,
      initialPresence: null,
      largeThreshold: null,
    }
    const strategy: IContextFetchingStrategy = {
      options: strategyOptions,
      retrieveSessionInfo: () => {
        // The library asks while Idle exactly once per (re)connect attempt: that is our backoff gate.
        if (this.#shard?.status === WebSocketShardStatus.Idle) {
          this.#gate ??= this.#beforeConnect().finally(() => {
            this.#gate = null
          })
          return this.#gate
        }
        return this.#sessionForLibrary()
      },
      updateSessionInfo: (_shardId, info) => this.#updateSession(info),
      waitForIdentify: (_shardId, signal) => this.#waitForIdentify(signal),
    }
    const shard = new WebSocketShard(strategy, SHARD_ID)
    this.#shard = shard
    shard.on(WebSocketShardEvents.Dispatch, (payload) => this.#onDispatch(payload))
    shard.on(WebSocketShardEvents.Hello, () => {
      this.#helloSeen = true
      this.#networkErrorSinceHello = false
      this.#lastActivity = Date.now()
    })
    shard.on(WebSocketShardEvents.HeartbeatComplete, ({ latency }) => {
      this.#lastActivity = Date.now()
      this.#options.status.patch({ heartbeatLatencyMs: latency })
    })
    shard.on(WebSocketShardEvents.Closed, (code) => this.#onClosed(code))
    shard.on(WebSocketShardEvents.SocketError, (error) => {
      this.#networkErrorSinceHello = true
      this.#log.warn({ err: error }, 'gateway socket error')
    })
    shard.on(WebSocketShardEvents.Error, (error) => this.#recordError('gateway error', error))
    shard.on(WebSocketShardEvents.Debug, (message) => {
      const match = /starting to beat every (\d+)ms/.exec(message)
      if (match?.[1]) this.#heartbeatMs = Number(match[1])
      // op 9 d:true resumes on the same socket without a close: surface it in the state machine
      if (message.startsWith('Resuming session')) this.#setState('resuming')
      if (message.startsWith('Invalid session'))
        this.#log.warn({ debug: message }, 'gateway invalid session (op 9)')
      this.#log.trace({ debug: message }, 'ws debug')
    })
    this.#startWatchdog()
    shard.connect().catch((error: unknown) => this.#recordError('shard connect failed', error))
  }

  /** The library's session with the sequence the consumer has actually applied. */
  #sessionForLibrary(): SessionInfo | null {
    const session = this.#session
    if (!session) return null
    const applied = this.#options.appliedSequence(session.sessionId)
    return applied === null ? session : { ...session, sequence: applied }
  }

  #updateSession(info: SessionInfo | null): void {
    if (info) {
      this.#session = info
      return
    }
    if (this.#halted) return // keep the session: the next process resumes it
    if (
      this.#networkErrorSinceHello &&
      this.#session &&
      this.#networkResumes < this.#options.timings.maxNetworkResumes
    ) {
      // @discordjs/ws drops the session after a network error; the session is still resumable on
      // Discord's side for a few minutes, so keep it (a failed resume falls back to IDENTIFY via op 9).
      this.#networkResumes++
      this.#log.debug(
        { networkResumes: this.#networkResumes },
        'keeping the session across a network error',
      )
      return
    }
    this.#session = null
    // The library dropped the session: the next socket identifies, it does not resume.
    if (this.#options.status.state === 'resuming') this.#setState('reconnecting')
  }

  /** Runs before every socket the library opens: backoff with full jitter, unless this is the first try. */
  async #beforeConnect(): Promise<SessionInfo | null> {
    if (this.#halted) return new Promise<never>(() => {}) // abandoned: stop() owns the shard now
    this.#retry++
    this.#helloSeen = false
    if (this.#retry > 1) {
      const delay = fullJitterDelay(this.#retry - 1, this.#options.timings.backoff, this.#random)
      if (delay > 0) {
        this.#setState('backing_off')
        this.#log.info(
          { delayMs: delay, retry: this.#retry - 1 },
          'backing off before reconnecting',
        )
        try {
          await sleep(delay, this.#stopController.signal)
        } catch {
          return new Promise<never>(() => {})
        }
      }
    }
    const session = this.#sessionForLibrary()
    this.#setState(session ? 'resuming' : 'connecting')
    return session
  }

  /**
   * Identify budget breaker + spacing. Rejects only when the library's `signal` aborts: any other
   * rejection makes @discordjs/ws destroy the shard while it may already be closing (a hang).
   */
  async #waitForIdentify(signal: AbortSignal): Promise<void> {
    const untilAborted = () =>
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason)
        else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
    const pause = async (ms: number) => {
      await sleep(ms, signal)
      if (this.#halted) await untilAborted()
    }
    let attempt = 0
    for (;;) {
      if (this.#halted) await untilAborted()
      try {
        this.#gatewayInfo = await this.#fetchGatewayInfo()
      } catch (error) {
        if (signal.aborted || this.#halted) await untilAborted()
        attempt++
        const delay = fullJitterDelay(attempt, this.#options.timings.backoff, this.#random)
        this.#recordError(`GET /gateway/bot before IDENTIFY failed; retrying in ${delay} ms`, error)
        await pause(delay)
        continue
      }
      const limit = this.#gatewayInfo.session_start_limit
      if (limit.remaining >= this.#options.timings.minIdentifyRemaining) break
      const wait = Math.max(limit.reset_after, 1000)
      const reason = `identify budget breaker open: ${limit.remaining}/${limit.total} identifies left, waiting ${wait} ms for the reset`
      this.#options.status.patch({ alert: { reason, at: Date.now() } })
      this.#log.error(
        { alert: true, remaining: limit.remaining, total: limit.total, waitMs: wait },
        reason,
      )
      this.#setState('backing_off')
      await pause(wait)
      this.#setState('connecting')
    }
    const spacing = this.#lastIdentifyAt + this.#options.timings.identifySpacingMs - Date.now()
    if (spacing > 0) await pause(spacing)
    if (this.#halted) await untilAborted()
    this.#lastIdentifyAt = Date.now()
    this.#options.status.count('identifies')
    const budget = this.#options.status.get().identifyBudget
    if (budget)
      this.#options.status.patch({ identifyBudget: { ...budget, remaining: budget.remaining - 1 } })
    this.#log.info('identifying (new gateway session)')
  }

  #onDispatch(payload: GatewayDispatchPayload): void {
    const receivedAt = preciseNow()
    this.#lastActivity = Date.now()
    this.#options.status.count('eventsProcessed')
    if (payload.t === GatewayDispatchEvents.Ready) {
      this.#retry = 0
      this.#networkResumes = 0
      this.#options.status.patch({ lastReadyAt: Date.now(), alert: null })
      this.#log.info({ sessionId: payload.d.session_id }, 'gateway READY (new session)')
      this.#setState('ready')
    } else if (payload.t === GatewayDispatchEvents.Resumed) {
      this.#retry = 0
      this.#networkResumes = 0
      this.#options.status.patch({ lastResumedAt: Date.now() })
      this.#log.info('gateway RESUMED')
      this.#setState('ready')
    }
    try {
      this.#options.onDispatch(payload, receivedAt)
    } catch (error) {
      this.#recordError(`failed to apply ${payload.t}`, error)
    }
  }

  #onClosed(code: number): void {
    if (this.#halted) return
    const fatal = fatalCloseReason(code)
    if (fatal) {
      // @discordjs/ws does not reconnect after these codes either; we stop and call an operator.
      this.#options.status.patch({ alert: { reason: fatal, at: Date.now() } })
      this.#recordError(
        `FATAL: ${fatal}; the gateway is stopped and needs an operator`,
        undefined,
        {
          alert: true,
          code,
        },
      )
      void this.#halt({ reason: fatal, socketOpen: false })
      return
    }
    this.#options.status.count('reconnects')
    // Whether this close resumes or starts a new session is the library's call: it drops the
    // session (updateSessionInfo(null)) right after this event when it will identify again.
    const sessionKept = this.#session !== null
    this.#log.warn({ code, sessionKept }, `gateway closed with ${code}`)
    this.#setState(sessionKept ? 'resuming' : 'reconnecting')
  }

  #startWatchdog(): void {
    const tick = () => {
      const shard = this.#shard
      if (!shard || this.#halted) return
      const limit = this.#options.timings.watchdogIntervals * this.#heartbeatMs
      const silentFor = Date.now() - this.#lastActivity
      if (this.#helloSeen && shard.status !== WebSocketShardStatus.Idle && silentFor > limit) {
        this.#helloSeen = false
        this.#log.warn(
          { silentForMs: silentFor, limitMs: limit },
          'watchdog: silent gateway socket, forcing a resume',
        )
        this.#setState('resuming')
        shard
          .destroy({
            code: 4000,
            reason: 'watchdog: silent socket',
            recover: WebSocketShardDestroyRecovery.Resume,
          })
          .catch((error: unknown) => this.#log.error({ err: error }, 'watchdog reconnect failed'))
      }
      this.#watchdog = setTimeout(tick, Math.max(50, Math.floor(this.#heartbeatMs / 4))).unref()
    }
    this.#watchdog = setTimeout(tick, Math.max(50, Math.floor(this.#heartbeatMs / 4))).unref()
  }

  #clearWatchdog(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog)
    this.#watchdog = null
  }
}
