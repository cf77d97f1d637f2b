import type { Redis } from 'ioredis'

/**
 * The messages of one Redis pub/sub channel, handed to this process's listeners. The subscriber
 * connection (a duplicate of the given client, which stays the caller's) opens with the first
 * listener and serves every later one. ioredis resubscribes by itself after a reconnect, but what
 * was published meanwhile is lost: the listeners then get `null`, meaning "re-read what you hold".
 */
export class RedisChannelWatch<T> {
  readonly #redis: Redis
  readonly #channel: string
  readonly #decode: (message: string) => T
  readonly #listeners = new Set<(value: T | null) => void>()
  #sub: Redis | null = null
  #subscribed: Promise<void> = Promise.resolve()

  constructor(redis: Redis, channel: string, decode: (message: string) => T) {
    this.#redis = redis
    this.#channel = channel
    this.#decode = decode
  }

  /** Adds a listener (subscribing on the first). Returns its removal. */
  add(listener: (value: T | null) => void): () => void {
    this.#listeners.add(listener)
    if (!this.#sub) this.#subscribe()
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Resolves once the subscription is acknowledged (start-up, tests). */
  subscribed(): Promise<void> {
    return this.#subscribed
  }

  /** Drops the listeners and closes the subscriber connection. */
  close(): void {
    this.#listeners.clear()
    this.#sub?.disconnect()
    this.#sub = null
  }

  #subscribe(): void {
    const sub = this.#redis.duplicate()
    this.#sub = sub
    let subscribedOnce = false
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) this.#notify(this.#decode(message))
    })
    sub.on('ready', () => {
      if (subscribedOnce) this.#notify(null)
    })
    // Connection errors show as the reconnect above; the main client reports them.
    sub.on('error', () => {})
    this.#subscribed = sub.subscribe(this.#channel).then(
      () => {
        subscribedOnce = true
      },
      () => undefined,
    )
  }

  #notify(value: T | null): void {
    for (const listener of this.#listeners) {
      try {
        listener(value)
      } catch {
        // One listener's failure must not starve the others.
      }
    }
  }
}
