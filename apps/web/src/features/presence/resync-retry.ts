/** Delays between retries of resyncs that failed (the bus was unavailable). */
const RETRY_MIN_MS = 250
const RETRY_MAX_MS = 5_000

/**
 * Rooms whose resync failed (or must happen once the bus works again), retried together after a
 * delay that doubles from 250 ms to 5 s while they keep failing and starts again after a success.
 */
export class ResyncRetry {
  readonly #rooms = new Set<string>()
  readonly #run: (roomIds: string[]) => void
  #timer: ReturnType<typeof setTimeout> | null = null
  #delayMs = RETRY_MIN_MS

  /** `run` resyncs the rooms; its outcome comes back through `failed` or `succeeded`. */
  constructor(run: (roomIds: string[]) => void) {
    this.#run = run
  }

  /** Retries these rooms after the current delay. */
  failed(roomIds: Iterable<string>): void {
    for (const roomId of roomIds) this.#rooms.add(roomId)
    if (this.#timer || this.#rooms.size === 0) return
    const delay = this.#delayMs
    this.#delayMs = Math.min(this.#delayMs * 2, RETRY_MAX_MS)
    this.#timer = setTimeout(() => {
      this.#timer = null
      const rooms = [...this.#rooms]
      this.#rooms.clear()
      this.#run(rooms)
    }, delay)
    this.#timer.unref?.()
  }

  /** A resync went through: the next failure is retried after the shortest delay again. */
  succeeded(): void {
    if (this.#rooms.size === 0 && !this.#timer) this.#delayMs = RETRY_MIN_MS
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#rooms.clear()
  }
}
