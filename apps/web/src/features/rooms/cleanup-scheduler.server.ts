import type { Logger } from 'pino'
import type { Clock } from '../../server/clock'

/** What the scheduler drives: RoomService's sweep, its next deadline and its reconciliation. */
export interface Sweepable {
  sweep(): Promise<unknown>
  nextDeadline(): number | null
  /** Brings rooms and Discord back in line (orphan channels, vanished channels). */
  reconcile?(): Promise<unknown>
}

/**
 * Runs the room cleanup: a sweep every `intervalMs` (one minute in production),
 * and an extra sweep exactly at the next deadline when that comes sooner, so the
 * 30 s closing warning goes out on time. Every `reconcileEveryMs` (ten minutes)
 * a tick also reconciles with Discord, so a channel whose deletion failed does
 * not linger until the next restart. Timers come from the injected clock.
 */
export class CleanupScheduler {
  readonly #target: Sweepable
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #intervalMs: number
  readonly #reconcileEveryMs: number
  #lastReconcile: number
  #timer: unknown = null
  #running = false
  #stopped = true

  constructor(options: {
    target: Sweepable
    clock: Clock
    logger: Logger
    intervalMs?: number
    reconcileEveryMs?: number
  }) {
    this.#target = options.target
    this.#clock = options.clock
    this.#logger = options.logger
    this.#intervalMs = options.intervalMs ?? 60_000
    this.#reconcileEveryMs = options.reconcileEveryMs ?? 10 * 60_000
    // Start-up already reconciled (bootRuntime), so the first periodic one comes later.
    this.#lastReconcile = options.clock.now()
  }

  start(): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#schedule()
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#timer = null
  }

  /** Re-plans the next wake-up (call after something changed a deadline). */
  poke(): void {
    if (!this.#stopped && !this.#running) this.#schedule()
  }

  #schedule(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    const now = this.#clock.now()
    const deadline = this.#target.nextDeadline()
    let delay = this.#intervalMs
    if (deadline !== null) delay = Math.min(delay, Math.max(deadline - now, 250))
    this.#timer = this.#clock.setTimeout(() => void this.#tick(), delay)
  }

  async #tick(): Promise<void> {
    this.#timer = null
    if (this.#stopped) return
    this.#running = true
    try {
      await this.#target.sweep()
    } catch (error) {
      this.#logger.error({ err: error }, 'room sweep failed')
    }
    try {
      const now = this.#clock.now()
      if (this.#target.reconcile && now - this.#lastReconcile >= this.#reconcileEveryMs) {
        this.#lastReconcile = now
        await this.#target.reconcile()
      }
    } catch (error) {
      this.#logger.warn({ err: error }, 'periodic reconciliation failed')
    } finally {
      this.#running = false
      if (!this.#stopped) this.#schedule()
    }
  }
}
