/**
 * A token bucket: `burst` tokens, refilled at `perSecond`. It counts whole milliseconds and
 * thousandths of a token, so with whole-number rates its state stays in small integers, which V8
 * stores in the object itself; fractional values would each be a separate heap number, and there
 * is a bucket per socket.
 */
export class TokenBucket {
  /** Thousandths of a token. */
  #milli: number
  /** When the bucket was last refilled (whole ms of `now`). */
  #last: number
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.#milli = burst * 1000
    this.#last = Math.floor(now())
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const t = Math.floor(this.now())
    // perSecond tokens per 1,000 ms is perSecond thousandths per ms.
    this.#milli = Math.min(this.burst * 1000, this.#milli + (t - this.#last) * this.perSecond)
    this.#last = t
    if (this.#milli < 1000) return false
    this.#milli -= 1000
    return true
  }
}
