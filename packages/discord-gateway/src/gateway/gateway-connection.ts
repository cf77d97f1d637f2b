import type { SessionInfo, WebSocketShard } from '@discordjs/ws'
import {
  WebSocketShardDestroyRecovery,
  WebSocketShardEvents,
  WebSocketShardStatus,
} from '@discordjs/ws'
import type {
  APIGatewayBotInfo,
  GatewayDispatchPayload,
  GatewayReadyDispatchData,
} from 'discord-api-types/v10'
import type { Logger } from 'pino'
import type { GatewayState } from '../gateway-status'
import { fullJitterDelay } from '../supervision/backoff'
import type { Clock } from '../supervision/clock'
import { preciseNow, systemClock, untilAborted } from '../supervision/clock'
import { fatalCloseReason } from '../supervision/close-codes'
import type { GatewayConnectionOptions } from './connection-options'
import { fetchGatewayInfoWithBackoff } from './gateway-info'
import { IdentifyGate } from './identify-gate'
import { SessionKeeper } from './session-keeper'
import { createShard } from './shard'
import { SilentSocketWatchdog } from './watchdog'

/** The promise the library's connect attempt waits on once the connection has stopped. */
const parked = (): Promise<never> => new Promise<never>(() => {})

/**
 * One supervised gateway connection on @discordjs/ws's WebSocketShard. The library keeps the
 * protocol (heartbeats, zombie detection, resume or identify after each close code); this class
 * adds what it lacks: backoff with full jitter before every reconnect, the identify gate (budget
 * breaker and spacing), the silent-socket watchdog, a stop on the close codes that are fatal to
 * us, keeping a resumable session across network errors, and the session hooks that let a
 * later process resume. It learns what happens from the library's events (Hello, Ready, Resumed,
 * HeartbeatComplete, Dispatch, Closed) and hooks (retrieveSessionInfo, updateSessionInfo,
 * waitForIdentify), never from its debug text. `#setState` is the only writer of the state.
 */
export class GatewayConnection {
  readonly #options: GatewayConnectionOptions
  readonly #log: Logger
  readonly #clock: Clock
  readonly #random: () => number
  readonly #stop = new AbortController()
  readonly #identifyGate: IdentifyGate
  readonly #watchdog: SilentSocketWatchdog
  readonly #sessions: SessionKeeper
  #shard: WebSocketShard | null = null
  #gatewayInfo: APIGatewayBotInfo | null = null
  /** Set once, by #halt: the connection is stopping or stopped for good. */
  #halted: Promise<void> | null = null
  /** Connect attempts since the last READY or RESUMED: the backoff grows with them. */
  #attempts = 0
  #gate: Promise<SessionInfo | null> | null = null

  constructor(options: GatewayConnectionOptions) {
    this.#options = options
    this.#log = options.logger
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? Math.random
    const t = options.timings
    this.#sessions = new SessionKeeper({
      maxNetworkResumes: t.maxNetworkResumes,
      appliedSequence: options.appliedSequence,
      logger: options.logger,
    })
    this.#identifyGate = new IdentifyGate({
      clock: this.#clock,
      minRemaining: t.minIdentifyRemaining,
      spacingMs: t.identifySpacingMs,
      shardId: options.shard?.id ?? 0,
      ...(options.identifyBuckets ? { buckets: options.identifyBuckets } : {}),
      sessionStartLimit: async (signal) =>
        (await this.#fetchGatewayInfo(signal)).session_start_limit,
      onBreakerOpen: (limit, waitMs) => {
        const reason = `identify budget breaker open: ${limit.remaining}/${limit.total} identifies left, waiting ${waitMs} ms for the reset`
        this.#options.status.patch({ alert: { reason, at: Date.now() } })
        this.#log.error(
          { alert: true, remaining: limit.remaining, total: limit.total, waitMs },
          reason,
        )
        this.#setState('backing_off')
      },
    })
    this.#watchdog = new SilentSocketWatchdog({
      clock: this.#clock,
      intervals: t.watchdogIntervals,
      defaultHeartbeatMs: t.defaultHeartbeatMs,
      onSilent: (silentForMs, limitMs) => this.#onSilentSocket(silentForMs, limitMs),
    })
  }

  /** The session to resume with (set from persistence before start). */
  setSession(session: SessionInfo | null): void {
    this.#sessions.set(session)
  }

  /** The library's current session info (null = the next connect identifies). */
  currentSession(): SessionInfo | null {
    return this.#sessions.current
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
      this.#stop.abort()
      this.#watchdog.stop()
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

  #setState(to: GatewayState): void {
    const change = this.#options.status.setState(to)
    if (change)
      this.#log.info({ from: change.from, to: change.to }, `gateway ${change.from} -> ${change.to}`)
  }

  #recordError(message: string, error?: unknown, fields: Record<string, unknown> = {}): void {
    this.#options.status.patch({ lastError: { message, at: Date.now() } })
    this.#log.error({ ...fields, err: error }, message)
  }

  /** The gateway URL first (GET /gateway/bot, retried until it answers), then the shard. */
  async #run(): Promise<void> {
    try {
      await this.#fetchGatewayInfo(this.#stop.signal)
    } catch {
      return // stopped while fetching
    }
    if (!this.#halted) this.#openShard()
  }

  async #fetchGatewayInfo(signal: AbortSignal): Promise<APIGatewayBotInfo> {
    const info = await fetchGatewayInfoWithBackoff({
      rest: this.#options.rest,
      clock: this.#clock,
      backoff: this.#options.timings.backoff,
      random: this.#random,
      signal,
      onRetry: (error, retry, delayMs) => {
        this.#recordError(
          `GET /gateway/bot failed (attempt ${retry}); retrying in ${delayMs} ms`,
          error,
        )
        this.#setState('backing_off')
      },
    })
    this.#gatewayInfo = info
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
    const shard = createShard({
      token: this.#options.token,
      guildMembersIntent: this.#options.guildMembersIntent,
      timings: this.#options.timings,
      shard: this.#options.shard ?? { id: 0, count: 1 },
      gatewayInformation: () => this.#gatewayInfo as APIGatewayBotInfo,
      hooks: {
        retrieveSessionInfo: () => {
          // The library asks while Idle exactly once per (re)connect attempt: our backoff gate.
          if (this.#shard?.status === WebSocketShardStatus.Idle) {
            this.#gate ??= this.#beforeConnect().finally(() => {
              this.#gate = null
            })
            return this.#gate
          }
          return this.#sessions.forLibrary()
        },
        updateSessionInfo: (_shardId, info) => this.#updateSession(info),
        waitForIdentify: (_shardId, signal) => this.#waitForIdentify(signal),
      },
    })
    this.#shard = shard
    shard.on(WebSocketShardEvents.Hello, () => {
      this.#sessions.onHello()
      this.#watchdog.onHello()
    })
    shard.on(WebSocketShardEvents.HeartbeatComplete, ({ heartbeatAt, latency }) => {
      this.#watchdog.onHeartbeatAck(heartbeatAt)
      this.#options.status.patch({
        heartbeatLatencyMs: latency,
        heartbeatIntervalMs: this.#watchdog.heartbeatIntervalMs,
      })
    })
    shard.on(WebSocketShardEvents.Ready, (data) => this.#onReady(data))
    shard.on(WebSocketShardEvents.Resumed, () => this.#onResumed())
    shard.on(WebSocketShardEvents.Dispatch, (payload) => this.#onDispatch(payload))
    shard.on(WebSocketShardEvents.Closed, (code) => this.#onClosed(code))
    shard.on(WebSocketShardEvents.SocketError, (error) => {
      this.#sessions.onSocketError()
      this.#log.warn({ err: error }, 'gateway socket error')
    })
    shard.on(WebSocketShardEvents.Error, (error) => this.#recordError('gateway error', error))
    shard.on(WebSocketShardEvents.Debug, (message) =>
      this.#log.trace({ debug: message }, 'ws debug'),
    )
    this.#watchdog.start()
    shard.connect().catch((error: unknown) => this.#recordError('shard connect failed', error))
  }

  #updateSession(info: SessionInfo | null): void {
    if (info === null && this.#halted) return // keep the session: the next process resumes it
    this.#sessions.update(info)
    // The library dropped the session: the next socket identifies, it does not resume.
    if (!this.#sessions.current && this.#options.status.state === 'resuming')
      this.#setState('reconnecting')
  }

  /** Runs before every socket the library opens: backoff with full jitter, unless this is the first try. */
  async #beforeConnect(): Promise<SessionInfo | null> {
    if (this.#halted) return parked()
    this.#watchdog.disarm()
    this.#attempts++
    if (this.#attempts > 1) {
      const retry = this.#attempts - 1
      const delayMs = fullJitterDelay(retry, this.#options.timings.backoff, this.#random)
      if (delayMs > 0) {
        this.#setState('backing_off')
        this.#log.info({ delayMs, retry }, 'backing off before reconnecting')
        try {
          await this.#clock.sleep(delayMs, this.#stop.signal)
        } catch {
          return parked() // stopped while waiting
        }
      }
    }
    if (!(await this.#mayConnect('open a gateway socket'))) return parked()
    const session = this.#sessions.forLibrary()
    this.#setState(session ? 'resuming' : 'connecting')
    return session
  }

  /**
   * The owner's gate (a failover lease): asked before each socket and each IDENTIFY. A refusal
   * halts the connection through #halt like any stop: nothing new is opened, an open socket is
   * closed with 4200 so the session stays resumable for the process that may speak for it.
   */
  async #mayConnect(action: string): Promise<boolean> {
    const gate = this.#options.mayConnect
    if (!gate || this.#halted) return !this.#halted
    let allowed = false
    try {
      allowed = await gate(this.#stop.signal)
    } catch (error) {
      this.#log.warn({ err: error }, `could not check whether this process may ${action}`)
    }
    if (allowed && !this.#halted) return true
    if (!this.#halted) this.#log.warn(`not allowed to ${action}: stopping the gateway connection`)
    void this.#halt({
      reason: `not allowed to ${action} (gateway lease not held)`,
      socketOpen: true,
    })
    return false
  }

  /**
   * Before every IDENTIFY: the identify gate (budget breaker, spacing). Rejects only with the
   * library's own abort (the shard closed): any other rejection makes @discordjs/ws destroy the
   * shard and resume, which would reconnect a connection that is stopping. #halt closes the
   * socket, and that aborts the library's signal.
   */
  async #waitForIdentify(signal: AbortSignal): Promise<void> {
    try {
      await this.#identifyGate.wait(AbortSignal.any([signal, this.#stop.signal]))
    } catch {
      await untilAborted(signal)
    }
    if (this.#halted || !(await this.#mayConnect('identify'))) await untilAborted(signal)
    this.#setState('connecting') // the breaker or a REST retry may have shown backing_off
    this.#options.status.count('identifies')
    const budget = this.#options.status.get().identifyBudget
    if (budget)
      this.#options.status.patch({ identifyBudget: { ...budget, remaining: budget.remaining - 1 } })
    this.#log.info('identifying (new gateway session)')
  }

  #onReady(data: GatewayReadyDispatchData): void {
    this.#attempts = 0
    this.#sessions.onSessionLive()
    this.#options.status.patch({ lastReadyAt: Date.now(), alert: null })
    this.#log.info({ sessionId: data.session_id }, 'gateway READY (new session)')
    this.#setState('ready')
  }

  #onResumed(): void {
    // On op 9 d:true the library sends RESUME on the socket it already has and emits nothing
    // until this event. Its status is Resuming meanwhile, but it handles messages concurrently,
    // so replayed dispatches can reach us after it has handled RESUMED: no reliable signal
    // either. RESUMED while we still show 'ready' is that resume: show it as it ends.
    if (this.#options.status.state === 'ready') this.#setState('resuming')
    this.#attempts = 0
    this.#sessions.onSessionLive()
    this.#options.status.patch({ lastResumedAt: Date.now() })
    this.#log.info('gateway RESUMED')
    this.#setState('ready')
  }

  #onDispatch(payload: GatewayDispatchPayload): void {
    const receivedAt = preciseNow()
    this.#watchdog.onActivity()
    this.#options.status.count('eventsProcessed')
    try {
      this.#options.onDispatch(payload, receivedAt)
    } catch (error) {
      this.#recordError(`failed to apply ${payload.t}`, error)
    }
  }

  #onClosed(code: number): void {
    if (this.#halted) return
    this.#watchdog.disarm()
    const fatal = fatalCloseReason(code)
    if (fatal) {
      // @discordjs/ws does not reconnect after these codes either; we stop and call an operator.
      this.#options.status.patch({ alert: { reason: fatal, at: Date.now() } })
      const message = `FATAL: ${fatal}; the gateway is stopped and needs an operator`
      this.#recordError(message, undefined, { alert: true, code })
      void this.#halt({ reason: fatal, socketOpen: false })
      this.#options.onFatalClose?.(code)
      return
    }
    this.#options.status.count('reconnects')
    // Whether this close resumes or starts a new session is the library's call: it drops the
    // session (updateSessionInfo(null), see #updateSession) right after this event when it will
    // identify again.
    const sessionKept = this.#sessions.current !== null
    this.#log.warn({ code, sessionKept }, `gateway closed with ${code}`)
    this.#setState(sessionKept ? 'resuming' : 'reconnecting')
  }

  #onSilentSocket(silentForMs: number, limitMs: number): void {
    const shard = this.#shard
    if (!shard || this.#halted || shard.status === WebSocketShardStatus.Idle) return
    this.#log.warn({ silentForMs, limitMs }, 'watchdog: silent gateway socket, forcing a resume')
    this.#setState('resuming')
    shard
      .destroy({
        code: 4000,
        reason: 'watchdog: silent socket',
        recover: WebSocketShardDestroyRecovery.Resume,
      })
      .catch((error: unknown) => this.#log.error({ err: error }, 'watchdog reconnect failed'))
  }
}
