import type { Logger } from 'pino'
import { type Clock, systemClock } from './clock'

/** Options of {@link LogThrottle}. */
export interface LogThrottleOptions {
  /** Lines of one kind written per interval; the rest are only counted. @defaultValue 10 */
  max?: number
  /** @defaultValue 60_000 */
  intervalMs?: number
  clock?: Clock
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
const LEVELS: ReadonlySet<string> = new Set<Level>([
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
])

/** One kind of line (a logger, a level, a message) in its current interval. */
interface Window {
  readonly logger: Logger
  readonly level: Level
  readonly msg: string
  readonly start: number
  logged: number
  suppressed: number
}

/** Kinds tracked at once; messages are fixed strings from the code, so this is only a safety cap. */
const MAX_KINDS = 1000

/**
 * Rate-limits log lines that a client can cause at will (a rejected request to an internal
 * endpoint, a refused WebSocket upgrade): of each kind of line (same logger, level and message)
 * the first `max` per interval are written, the rest are counted, and one summary line with the
 * count follows when the interval ends. A flood then costs a few lines a minute instead of one
 * per request, and the operator still sees that it happened and how big it was.
 *
 * Written here because pino has no sampling or rate limit of its own (only per-logger levels).
 */
export class LogThrottle {
  readonly #max: number
  readonly #intervalMs: number
  readonly #clock: Clock
  readonly #windows = new Map<string, Window>()
  readonly #ids = new WeakMap<Logger, number>()
  #nextId = 0
  #timer: unknown = null
  #timerAt = 0

  constructor(options: LogThrottleOptions = {}) {
    this.#max = options.max ?? 10
    this.#intervalMs = options.intervalMs ?? 60_000
    this.#clock = options.clock ?? systemClock
  }

  /** Writes `msg` at `level` on `logger`, unless `max` such lines were written this interval. */
  log(logger: Logger, level: Level, fields: object, msg: string): void {
    const now = this.#clock.now()
    const key = `${this.#idOf(logger)}:${level}:${msg}`
    let window = this.#windows.get(key)
    if (window && now - window.start >= this.#intervalMs) {
      this.#report(window)
      this.#windows.delete(key)
      window = undefined
    }
    if (!window) {
      if (this.#windows.size >= MAX_KINDS) this.flush()
      window = { logger, level, msg, start: now, logged: 0, suppressed: 0 }
      if (this.#windows.size < MAX_KINDS) this.#windows.set(key, window)
    }
    if (window.logged < this.#max) {
      window.logged++
      logger[level](fields, msg)
      return
    }
    window.suppressed++
    this.#schedule(window.start + this.#intervalMs - now)
  }

  /**
   * A logger whose level methods (`warn(fields, msg)` and `warn(msg)`) go through this throttle,
   * for code that takes a pino Logger. Anything else, `child()` included, is the logger's own.
   */
  wrap(logger: Logger): Logger {
    return new Proxy(logger, {
      get: (target, prop) => {
        if (typeof prop === 'string' && LEVELS.has(prop)) {
          return (first: unknown, second?: unknown) => {
            const [fields, msg] =
              typeof first === 'string' ? [{}, first] : [first ?? {}, String(second ?? '')]
            this.log(target, prop as Level, fields as object, msg)
          }
        }
        const value: unknown = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  }

  /** Writes the summary of every interval that has ended and forgets those intervals. */
  flush(): void {
    const now = this.#clock.now()
    for (const [key, window] of this.#windows) {
      if (now - window.start < this.#intervalMs) continue
      this.#report(window)
      this.#windows.delete(key)
    }
    const pending = [...this.#windows.values()].filter((w) => w.suppressed > 0)
    if (pending.length > 0) {
      this.#schedule(Math.min(...pending.map((w) => w.start + this.#intervalMs - now)))
    }
  }

  /** Writes the summaries of the current intervals too (at shutdown) and stops the timer. */
  close(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#timer = null
    for (const window of this.#windows.values()) this.#report(window)
    this.#windows.clear()
  }

  #report(window: Window): void {
    if (window.suppressed === 0) return
    window.logger[window.level](
      { suppressed: window.suppressed, intervalMs: this.#intervalMs },
      `${window.msg} (${window.suppressed} more not logged)`,
    )
    window.suppressed = 0
  }

  /** Makes sure a flush runs within `inMs`. */
  #schedule(inMs: number): void {
    const at = this.#clock.now() + Math.max(0, inMs)
    if (this.#timer !== null) {
      if (this.#timerAt <= at) return
      this.#clock.clearTimeout(this.#timer)
    }
    this.#timerAt = at
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = null
        this.flush()
      },
      Math.max(0, inMs),
    )
  }

  #idOf(logger: Logger): number {
    let id = this.#ids.get(logger)
    if (id === undefined) {
      id = this.#nextId++
      this.#ids.set(logger, id)
    }
    return id
  }
}
