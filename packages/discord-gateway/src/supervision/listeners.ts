/**
 * The listeners of one kind of notification. `notify` calls them in subscription order; one that
 * throws is handed to `onError` and the others still run (a listener must not break its source).
 */
export class Listeners<A extends unknown[]> {
  readonly #set = new Set<(...args: A) => void>()

  /** Adds `listener`; returns its unsubscribe. */
  add(listener: (...args: A) => void): () => void {
    this.#set.add(listener)
    return () => {
      this.#set.delete(listener)
    }
  }

  notify(args: A, onError: (error: unknown) => void): void {
    for (const listener of this.#set) {
      try {
        listener(...args)
      } catch (error) {
        onError(error)
      }
    }
  }
}
