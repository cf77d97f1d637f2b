import type { Logger } from 'pino'
import type { Clock } from './clock'

/** What the scheduler drives: RoomService's sweep and its next deadline. */
export interface Sweepable {
  sweep(): Promise<unknown>
  nextDeadline(): number | null
}

/**
 * Runs the room cleanup: a sweep every `intervalMs` (one minute in production),
 * and an extra sweep exactly at the next deadline when that comes sooner, so the
 * 30 s closing warning goes out on time. Timers come from the injected clock.
 */
export class CleanupScheduler {
  readonly #target: Sweepable
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #intervalMs: number
  #timer: unknown = null
  #running = false
  #stopped = true

  constructor(options: { target: Sweepable; clock: Clock; logger: Logger; intervalMs?: number }) {
    this.#target = options.target
    this.#clock = options.clock
    this.#logger = options.logger
    this.#intervalMs = options.intervalMs ?? 60_000
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
    } finally {
      this.#running = false
      if (!this.#stopped) this.#schedule()
    }
  }
}
