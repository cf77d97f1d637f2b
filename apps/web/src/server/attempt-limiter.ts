/** What counting an attempt answered: refused, with the seconds until the window ends. */
export type AttemptVerdict = { ok: true } | { ok: false; retryAfter: number }

/**
 * A fixed-window attempt counter: at most `limit` attempts per key in each `windowMs` window,
 * which starts at the key's first attempt. For guesses (room codes), where a key that hammers
 * must wait the window out rather than get a token back every few seconds.
 */
export interface AttemptLimiter {
  /** Counts one attempt of `key`; refused once the key's window already had `limit` attempts. */
  hit(key: string): Promise<AttemptVerdict>
}

/** The limits of one attempt counter. */
export interface AttemptLimits {
  limit: number
  windowMs: number
}

/**
 * The single-node AttemptLimiter, in memory. Memory stays bounded: at most `maxKeys` windows are
 * kept; when full, the oldest window goes first (an attacker rotating keys only forgets their own).
 */
export class MemoryAttemptLimiter implements AttemptLimiter {
  readonly #windows = new Map<string, { count: number; endsAt: number }>()
  readonly #limits: AttemptLimits
  readonly #now: () => number
  readonly #maxKeys: number

  constructor(limits: AttemptLimits, options: { now?: () => number; maxKeys?: number } = {}) {
    this.#limits = limits
    this.#now = options.now ?? Date.now
    this.#maxKeys = options.maxKeys ?? 50_000
  }

  hit(key: string): Promise<AttemptVerdict> {
    const now = this.#now()
    let window = this.#windows.get(key)
    if (!window || window.endsAt <= now) {
      this.#windows.delete(key)
      if (this.#windows.size >= this.#maxKeys) {
        const oldest = this.#windows.keys().next().value
        if (oldest !== undefined) this.#windows.delete(oldest)
      }
      window = { count: 0, endsAt: now + this.#limits.windowMs }
      this.#windows.set(key, window)
    }
    window.count++
    if (window.count <= this.#limits.limit) return Promise.resolve({ ok: true })
    return Promise.resolve({
      ok: false,
      retryAfter: Math.max(1, Math.ceil((window.endsAt - now) / 1000)),
    })
  }

  /** Windows kept (tests). */
  get size(): number {
    return this.#windows.size
  }
}
