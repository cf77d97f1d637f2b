import { GatewayError } from '../errors'

/**
 * `ready` itself without a timeout; with one, rejects with READY_TIMEOUT (`<what> not ready after
 * <timeoutMs> ms`) unless `ready` resolves first.
 */
export function readyWithin(
  ready: Promise<void>,
  timeoutMs: number | undefined,
  what: string,
): Promise<void> {
  if (timeoutMs === undefined) return ready
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new GatewayError('READY_TIMEOUT', `${what} not ready after ${timeoutMs} ms`)),
      timeoutMs,
    )
    void ready.then(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/**
 * Ready once `test()` holds, and ready for good from then on. `check()` after each change that
 * may make it hold resolves whoever waits.
 */
export class ReadyLatch {
  readonly #test: () => boolean
  readonly #waiters = new Set<() => void>()
  #ready = false

  constructor(test: () => boolean) {
    this.#test = test
  }

  get isReady(): boolean {
    if (this.#ready) return true
    this.#ready = this.#test()
    return this.#ready
  }

  check(): void {
    if (!this.isReady) return
    for (const resolve of this.#waiters) resolve()
    this.#waiters.clear()
  }

  /** Resolves once ready; see {@link readyWithin} for the timeout. */
  wait(timeoutMs: number | undefined, what: string): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      if (this.isReady) resolve()
      else this.#waiters.add(resolve)
    })
    return readyWithin(ready, timeoutMs, what)
  }
}
