import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { GatewayKeys } from './keys'
import type { LeaseValue } from './lease-scripts'
import { ACQUIRE_LEASE, parseLeaseValue, RELEASE_LEASE, RENEW_LEASE } from './lease-scripts'

/** Why this process no longer holds the lease. */
export type LeaseLoss =
  /** Someone else holds it (our renewal found their value). */
  | 'taken'
  /** Our last successful renewal is too old (a pause, Redis unreachable, a partition). */
  | 'expired'
  /** A fenced write was refused: a newer token exists. */
  | 'fenced'
  /** We gave it up (graceful stop or step-down). */
  | 'released'

/** A lease this process now holds. */
export interface LeaseGrant {
  readonly token: number
  /** True when we took it again after Redis lost our lease while it was still valid. */
  readonly reacquired: boolean
  /** Epoch ms. */
  readonly acquiredAt: number
}

/** Who leads, as last seen by this process. */
export interface LeaseHolder extends LeaseValue {
  /** Epoch ms when it was seen. */
  readonly seenAt: number
}

/** Options of {@link GatewayLease}. */
export interface GatewayLeaseOptions {
  redis: Redis
  keys: Pick<GatewayKeys, 'lease' | 'fence'>
  /** This candidate's identity (unique per process: host, pid, random). */
  holderId: string
  /** How long the lease outlives its last renewal in Redis (ms). */
  ttlMs: number
  /** How often a candidate tries to take a free lease. @defaultValue ttl/5 within [200, 1000] ms */
  pollMs?: number
  /** A monotonic clock in ms (never jumps with the wall clock). @defaultValue performance.now */
  now?: () => number
  /**
   * How many polls in a row must find the lease free before this candidate tries for it (0 =
   * at once). A process that already leads other shards defers, so a free shard goes to a
   * process leading fewer, and shards spread over the processes. @defaultValue always 0
   */
  deferPolls?(): number
  logger: Logger
}

/** The fraction of the lease during which a renewal is trusted (the rest is the safety margin). */
const VALIDITY = 0.8

/**
 * The gateway lease of one shard, with a fencing token (see lease-scripts.ts).
 *
 * A holder renews every ttl/3. `holds()` is true only while the last successful renewal (timed
 * from when it was *sent*, on a monotonic clock) is younger than 4/5 of the lease: Redis expires
 * the key at least a full lease after that moment, so while `holds()` is true no one else can
 * have it. After a SIGSTOP/SIGCONT the first check sees the old renewal and answers false before
 * any timer has run; an expiry timer then reports the loss. A renewal that finds the lease gone
 * while `holds()` is still true (Redis restarted without its data) takes it again with a new
 * token (`reacquired`). Candidates poll for a free lease every `pollMs`. All Redis operations of
 * one lease run one at a time.
 */
export class GatewayLease {
  readonly holderId: string
  readonly ttlMs: number
  readonly pollMs: number
  readonly #redis: Redis
  readonly #keys: Pick<GatewayKeys, 'lease' | 'fence'>
  readonly #now: () => number
  readonly #log: Logger
  readonly #acquired = new Set<(grant: LeaseGrant) => void>()
  readonly #lost = new Set<(reason: LeaseLoss) => void>()
  #held: { value: string; token: number; renewedAt: number } | null = null
  #leader: LeaseHolder | null = null
  #running = false
  #timer: NodeJS.Timeout | null = null
  #expiryTimer: NodeJS.Timeout | null = null
  #chain: Promise<unknown> = Promise.resolve()
  readonly #deferPolls: () => number
  /** Polls in a row that found the lease free while deferring. */
  #freePolls = 0

  constructor(options: GatewayLeaseOptions) {
    this.#deferPolls = options.deferPolls ?? (() => 0)
    this.#redis = options.redis
    this.#keys = options.keys
    this.holderId = options.holderId
    this.ttlMs = options.ttlMs
    this.pollMs = options.pollMs ?? Math.min(1_000, Math.max(200, Math.round(options.ttlMs / 5)))
    this.#now = options.now ?? (() => performance.now())
    this.#log = options.logger
  }

  /** True while this process may act as the leader (see the class comment). */
  holds(): boolean {
    const held = this.#held
    return held !== null && this.#now() - held.renewedAt < this.ttlMs * VALIDITY
  }

  /** Our token while we hold the lease (even if `holds()` has just turned false), else null. */
  get token(): number | null {
    return this.#held?.token ?? null
  }

  /** The holder last seen (ourselves while we hold it), or null when none was seen. */
  get leader(): LeaseHolder | null {
    return this.#leader
  }

  /** Starts competing for the lease (and keeping it once held). */
  start(): void {
    if (this.#running) return
    this.#running = true
    this.#schedule(0)
  }

  /** Stops competing; releases the lease if held, so another candidate takes over at its next poll. */
  async stop(): Promise<void> {
    this.#running = false
    this.#clearTimers()
    await this.release()
  }

  /**
   * Renews now and answers true only if Redis just confirmed the lease is ours: what the gateway
   * connection asks before it opens a socket or identifies. Not the last renewal: a leader cut
   * off from Redis, whose lease a promoted replica may have lost and another candidate taken,
   * must not take the session back; it cannot write anyway.
   */
  confirm(): Promise<boolean> {
    return this.#enqueue(async () => (await this.#renew()) && this.holds())
  }

  /** Gives the lease up (compare-and-delete) and reports the loss; a no-op when not held. */
  release(): Promise<void> {
    return this.#enqueue(async () => {
      const held = this.#held
      if (!held) return
      this.#lose('released')
      await this.#deleteIfOurs(held.value)
    })
  }

  /** A fenced write was refused: someone holds a newer token. Drops the lease at once. */
  surrender(): void {
    this.#lose('fenced')
  }

  onAcquired(listener: (grant: LeaseGrant) => void): () => void {
    this.#acquired.add(listener)
    return () => this.#acquired.delete(listener)
  }

  onLost(listener: (reason: LeaseLoss) => void): () => void {
    this.#lost.add(listener)
    return () => this.#lost.delete(listener)
  }

  #enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(operation)
    this.#chain = run.catch(() => undefined)
    return run
  }

  #schedule(ms: number): void {
    if (!this.#running) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#timer = null
      void this.#enqueue(async () => {
        if (this.#held) await this.#renew()
        else if (await this.#mayTry()) await this.#tryAcquire()
      }).finally(() =>
        this.#schedule(this.#held ? Math.max(1, Math.floor(this.ttlMs / 3)) : this.pollMs),
      )
    }, ms)
    this.#timer.unref()
  }

  /** Reports the loss as soon as the last renewal is too old, whether or not Redis answers. */
  #scheduleExpiry(): void {
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer)
    const held = this.#held
    if (!held) return
    const left = held.renewedAt + this.ttlMs * VALIDITY - this.#now()
    this.#expiryTimer = setTimeout(
      () => {
        this.#expiryTimer = null
        if (this.#held === held && !this.holds()) this.#lose('expired')
        else if (this.#held === held) this.#scheduleExpiry()
      },
      Math.max(1, Math.ceil(left)),
    )
    this.#expiryTimer.unref()
  }

  #clearTimers(): void {
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer)
    this.#timer = null
    this.#expiryTimer = null
  }

  /** Whether to try for the lease now (see `deferPolls`); a deferring candidate watches it meanwhile. */
  async #mayTry(): Promise<boolean> {
    const defer = this.#deferPolls()
    if (defer <= 0) return true
    let raw: string | null
    try {
      raw = await this.#redis.get(this.#keys.lease)
    } catch {
      return false
    }
    const value = parseLeaseValue(raw)
    if (value) {
      this.#leader = { ...value, seenAt: Date.now() }
      this.#freePolls = 0
      return false
    }
    this.#freePolls++
    if (this.#freePolls <= defer) return false
    this.#freePolls = 0
    return true
  }

  async #tryAcquire(reacquire = false): Promise<boolean> {
    if (!this.#running) return false
    const sentAt = this.#now()
    let reply: unknown
    try {
      reply = await ACQUIRE_LEASE.run(
        this.#redis,
        [this.#keys.lease, this.#keys.fence],
        [this.holderId, this.ttlMs],
      )
    } catch (error) {
      this.#log.debug({ err: error }, 'could not try for the gateway lease')
      return false
    }
    const [taken, raw] = reply as [number, string]
    const value = parseLeaseValue(raw)
    if (!value) {
      this.#log.error({ value: raw }, 'the gateway lease holds an unreadable value')
      return false
    }
    this.#leader = { ...value, seenAt: Date.now() }
    if (taken !== 1) {
      if (value.holderId === this.holderId && !this.#held) {
        // Ours from an attempt whose reply we never got: free it rather than guess its age.
        await this.#deleteIfOurs(raw)
      }
      return false
    }
    this.#held = { value: raw, token: value.token, renewedAt: sentAt }
    this.#scheduleExpiry()
    this.#log.info(
      { token: value.token, reacquired: reacquire },
      reacquire ? 'took the gateway lease again after Redis lost it' : 'acquired the gateway lease',
    )
    const grant: LeaseGrant = { token: value.token, reacquired: reacquire, acquiredAt: Date.now() }
    for (const listener of this.#acquired) listener(grant)
    return true
  }

  /** One renewal; true when Redis confirmed (or, after losing it, gave us again) the lease. */
  async #renew(): Promise<boolean> {
    const held = this.#held
    if (!held) return false
    // Once the last renewal is too old the lease counts as lost, even if Redis would still renew
    // it: a leader that paused past its lease steps down rather than carry on.
    if (!this.holds()) {
      this.#lose('expired')
      return false
    }
    const sentAt = this.#now()
    let reply: unknown
    try {
      reply = await RENEW_LEASE.run(this.#redis, [this.#keys.lease], [held.value, this.ttlMs])
    } catch (error) {
      this.#log.warn({ err: error }, 'gateway lease renewal failed')
      if (this.#held === held && !this.holds()) this.#lose('expired')
      return false
    }
    if (this.#held !== held) return false
    const [outcome, current] = reply as [number, string]
    if (outcome === 1) {
      held.renewedAt = Math.max(held.renewedAt, sentAt)
      this.#leader = { holderId: this.holderId, token: held.token, seenAt: Date.now() }
      this.#scheduleExpiry()
      return true
    }
    if (outcome === 0) {
      const other = parseLeaseValue(current)
      if (other) this.#leader = { ...other, seenAt: Date.now() }
      this.#lose('taken')
      return false
    }
    if (!this.holds()) {
      this.#lose('expired')
      return false
    }
    // Nobody holds it although our lease is still valid: Redis lost it (a restart without its
    // data, an operator's DEL). No one else can have written with a newer token in between
    // without holding the lease now, so take it again; the writer checks what Redis still has.
    this.#held = null
    if (await this.#tryAcquire(true)) return true
    this.#held = held
    this.#lose('taken')
    return false
  }

  #lose(reason: LeaseLoss): void {
    const held = this.#held
    if (!held) return
    this.#held = null
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer)
    this.#expiryTimer = null
    const log = reason === 'released' ? this.#log.info : this.#log.warn
    log.call(this.#log, { token: held.token, reason }, `gateway lease lost (${reason})`)
    // A lease that may still be ours in Redis (expired here first) is freed for the next leader.
    if (reason === 'expired' || reason === 'fenced') void this.#deleteIfOurs(held.value)
    for (const listener of this.#lost) listener(reason)
    if (this.#running) this.#schedule(this.pollMs)
  }

  async #deleteIfOurs(value: string): Promise<void> {
    try {
      await RELEASE_LEASE.run(this.#redis, [this.#keys.lease], [value])
    } catch (error) {
      this.#log.debug({ err: error }, 'could not release the gateway lease (it expires by itself)')
    }
  }
}
