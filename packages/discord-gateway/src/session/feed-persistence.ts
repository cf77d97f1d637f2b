import type { PersistedGateway } from './persisted-gateway'
import type { GatewaySessionStore } from './session-store'

/** Options of {@link FeedPersistence}. */
export interface FeedPersistenceOptions {
  store: GatewaySessionStore
  /** Save at most this often while dirty (ms). */
  intervalMs: number
  /** The picture to save, taken synchronously when a save starts. */
  value(): PersistedGateway
  /** A save failed: the feed stays dirty, so the next interval saves again. */
  onError(error: unknown): void
}

/**
 * When the feed's sessions and voice state are saved: every `intervalMs` while dirty, and at once
 * on `saveNow()`. Saves run one after the other, in order.
 */
export class FeedPersistence {
  readonly #o: FeedPersistenceOptions
  #dirty = false
  #timer: NodeJS.Timeout | null = null
  #saving: Promise<void> = Promise.resolve()
  #stopped = false

  constructor(options: FeedPersistenceOptions) {
    this.#o = options
  }

  /** Something changed that the next save must hold. */
  markDirty(): void {
    this.#dirty = true
  }

  /** Starts the interval. */
  start(): void {
    this.#timer = setTimeout(() => {
      if (this.#dirty) void this.saveNow()
      if (!this.#stopped) this.start()
    }, this.#o.intervalMs)
    this.#timer.unref()
  }

  /** Stops the interval (a last `saveNow()` is the caller's). */
  stop(): void {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
  }

  /** Saves now, after any save in flight; resolves once saved or failed (see onError). */
  saveNow(): Promise<void> {
    this.#dirty = false
    const value = this.#o.value()
    this.#saving = this.#saving
      .then(() => this.#o.store.save(value))
      .catch((error: unknown) => {
        this.#dirty = true
        this.#o.onError(error)
      })
    return this.#saving
  }
}
