import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'

/** Extends the lease only while we still hold it. KEYS: lease. ARGV: holder, ttl ms. */
const EXTEND_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`

/** Deletes the lease only while we still hold it. KEYS: lease. ARGV: holder. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

/** Who leads the cleanup: a Redis lease, or always this process when it runs alone. */
export interface Leadership {
  /** Whether this process holds the lease right now. */
  readonly isLeader: boolean
  /** Tries to take the lease at once and keeps it (or keeps trying) every ttl/3. */
  start(): Promise<void>
  /** Stops renewing and gives the lease up, so another node takes over without waiting. */
  stop(): Promise<void>
  /** Called when leadership is won or lost. */
  onChange(listener: (isLeader: boolean) => void): () => void
}

/** Options of {@link LeaderLease}. */
export interface LeaderLeaseOptions {
  redis: Redis
  /** The lease key, e.g. `tv:leader`. */
  key: string
  /** How long a lease outlives its last renewal (ms). @defaultValue 15_000 */
  ttlMs?: number
  /** This holder's identity. @defaultValue a random UUID */
  holderId?: string
  logger?: Logger
}

/**
 * A leader lease on Redis: `SET key holder NX PX ttl` takes it, a compare-and-extend
 * (Lua) renews it every ttl/3, a compare-and-delete releases it. A holder that stops
 * renewing (crash, partition) loses it after ttl and another node takes over on its
 * next attempt. A renewal that fails (Redis down, lease taken) drops leadership at
 * once: two leaders for a moment are worse than none for one attempt.
 */
export class LeaderLease implements Leadership {
  readonly #redis: Redis
  readonly #key: string
  readonly #ttlMs: number
  readonly #holder: string
  readonly #logger: Logger | undefined
  readonly #listeners = new Set<(isLeader: boolean) => void>()
  #leader = false
  #timer: ReturnType<typeof setTimeout> | null = null
  #running = false
  #attempt: Promise<void> = Promise.resolve()

  constructor(options: LeaderLeaseOptions) {
    this.#redis = options.redis
    this.#key = options.key
    this.#ttlMs = options.ttlMs ?? 15_000
    this.#holder = options.holderId ?? randomUUID()
    this.#logger = options.logger
  }

  get isLeader(): boolean {
    return this.#leader
  }

  /** This holder's identity (the lease value). */
  get holderId(): string {
    return this.#holder
  }

  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    await this.#tick()
  }

  async stop(): Promise<void> {
    this.#running = false
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    await this.#attempt
    if (!this.#leader) return
    this.#set(false)
    try {
      await this.#redis.eval(RELEASE_SCRIPT, 1, this.#key, this.#holder)
    } catch (error) {
      this.#logger?.warn(
        { err: error },
        'could not release the leader lease (it expires by itself)',
      )
    }
  }

  onChange(listener: (isLeader: boolean) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** One acquisition or renewal attempt, then the next one is planned. */
  #tick(): Promise<void> {
    this.#timer = null
    this.#attempt = this.#tryHold().finally(() => {
      if (this.#running) {
        this.#timer = setTimeout(() => void this.#tick(), Math.max(1, Math.floor(this.#ttlMs / 3)))
        this.#timer.unref?.()
      }
    })
    return this.#attempt
  }

  async #tryHold(): Promise<void> {
    const ttl = String(this.#ttlMs)
    try {
      if (this.#leader) {
        const kept = await this.#redis.eval(EXTEND_SCRIPT, 1, this.#key, this.#holder, ttl)
        if (kept !== 1) {
          this.#logger?.warn('leader lease lost')
          this.#set(false)
        }
        return
      }
      const taken = await this.#redis.set(this.#key, this.#holder, 'PX', this.#ttlMs, 'NX')
      if (taken !== 'OK') return
      if (this.#running) this.#set(true)
      else await this.#redis.eval(RELEASE_SCRIPT, 1, this.#key, this.#holder)
    } catch (error) {
      if (this.#leader) this.#logger?.warn({ err: error }, 'leader lease renewal failed')
      this.#set(false)
    }
  }

  #set(leader: boolean): void {
    if (this.#leader === leader) return
    this.#leader = leader
    this.#logger?.info({ leader }, leader ? 'became the cleanup leader' : 'no longer the leader')
    for (const listener of this.#listeners) {
      try {
        listener(leader)
      } catch {
        // A listener's failure must not stop the lease.
      }
    }
  }
}

/** The single-node leadership: always the leader. */
export const soleLeader: Leadership = {
  isLeader: true,
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
  onChange: () => () => undefined,
}
