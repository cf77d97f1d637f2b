import type { Logger } from 'pino'

/**
 * Something that keeps sessions open on this node (the presence sockets): which ones, and how to
 * end them there.
 */
export interface SessionHolder {
  sessionIds(): string[]
  endSessions(ids: readonly string[]): void
}

/** This node's session holders: ends sessions in each of them, one failing holder not stopping the others. */
export class SessionHolders {
  readonly #holders = new Set<SessionHolder>()
  readonly #logger: Logger

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /** Adds the holder; returns its removal. */
  attach(holder: SessionHolder): () => void {
    this.#holders.add(holder)
    return () => {
      this.#holders.delete(holder)
    }
  }

  clear(): void {
    this.#holders.clear()
  }

  /** Ends the sessions in every holder. */
  endSessions(ids: readonly string[]): void {
    for (const holder of this.#holders) {
      try {
        holder.endSessions(ids)
      } catch (error) {
        this.#logger.error({ err: error }, 'ending sessions in a holder failed')
      }
    }
  }

  /** Ends, in the holders, the sessions that `live` says are no longer live. */
  async endGone(live: (ids: readonly string[]) => Promise<Set<string>>): Promise<void> {
    for (const holder of this.#holders) {
      try {
        const ids = holder.sessionIds()
        if (ids.length === 0) continue
        const alive = await live(ids)
        const gone = ids.filter((id) => !alive.has(id))
        if (gone.length > 0) holder.endSessions(gone)
      } catch (error) {
        this.#logger.warn({ err: error }, 'session recheck failed')
      }
    }
  }
}
