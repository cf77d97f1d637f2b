import type { FeedEnd } from './feed-reads'

/**
 * Callers waiting until a reader has applied everything a feed held when they asked. Callers in
 * the same turn of the event loop share one read of the feed's end.
 */
export class CatchUpWaiters {
  readonly #readEnd: () => Promise<FeedEnd>
  readonly #reached: (end: FeedEnd) => boolean
  readonly #waiters = new Set<{ end: FeedEnd; done: () => void }>()
  #nextEnd: Promise<FeedEnd | null> | null = null

  /**
   * @param readEnd - reads the feed's end now
   * @param reached - whether the reader has applied up to `end`
   */
  constructor(readEnd: () => Promise<FeedEnd>, reached: (end: FeedEnd) => boolean) {
    this.#readEnd = readEnd
    this.#reached = reached
  }

  /**
   * True once the reader reached the feed's end as read now (at once when Redis has no feed);
   * false after `timeoutMs` or when the end cannot be read.
   */
  async wait(timeoutMs: number): Promise<boolean> {
    this.#nextEnd ??= new Promise((resolve) => {
      setImmediate(() => {
        this.#nextEnd = null
        this.#readEnd().then(resolve, () => resolve(null))
      })
    })
    const end = await this.#nextEnd
    if (!end) return false
    if (end.epoch === '' || this.#reached(end)) return true
    return new Promise<boolean>((resolve) => {
      const waiter = {
        end,
        done: () => {
          clearTimeout(timer)
          this.#waiters.delete(waiter)
          resolve(true)
        },
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        resolve(false)
      }, timeoutMs)
      this.#waiters.add(waiter)
    })
  }

  /** Releases the waiters the reader has now reached (call after it applied something). */
  check(): void {
    for (const waiter of this.#waiters) if (this.#reached(waiter.end)) waiter.done()
  }
}
