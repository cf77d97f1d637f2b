import type { SessionInfo } from '@discordjs/ws'
import type { Logger } from 'pino'

/** What the {@link SessionKeeper} needs. */
export interface SessionKeeperOptions {
  /** Network-error closes after which the session is given up in favour of IDENTIFY. */
  maxNetworkResumes: number
  /** The sequence the consumer has applied for a session (the library must resume from there). */
  appliedSequence(sessionId: string): number | null
  logger: Logger
}

/**
 * The gateway session @discordjs/ws resumes with (its `retrieveSessionInfo` and
 * `updateSessionInfo` hooks land here). Two things differ from the library's own keeping: it
 * resumes from the sequence the consumer has applied, not the last one received, so a restart
 * replays exactly what the persisted voice state has not seen; and it keeps the session across a
 * network error, which the library drops although Discord keeps it resumable for a few minutes
 * (a resume that fails anyway gets op 9 and falls back to IDENTIFY), up to `maxNetworkResumes`
 * times in a row.
 */
export class SessionKeeper {
  readonly #options: SessionKeeperOptions
  #session: SessionInfo | null = null
  #networkErrorSinceHello = false
  #networkResumes = 0

  constructor(options: SessionKeeperOptions) {
    this.#options = options
  }

  /** The session as last reported by the library (null = the next connect identifies). */
  get current(): SessionInfo | null {
    return this.#session
  }

  /** Sets the session to resume with (from persistence, before start). */
  set(session: SessionInfo | null): void {
    this.#session = session
  }

  /** The session for the library, at the sequence the consumer has actually applied. */
  forLibrary(): SessionInfo | null {
    const session = this.#session
    if (!session) return null
    const applied = this.#options.appliedSequence(session.sessionId)
    return applied === null ? session : { ...session, sequence: applied }
  }

  /** The library's `updateSessionInfo`: a new sequence or session, or null when it drops it. */
  update(info: SessionInfo | null): void {
    if (info) {
      this.#session = info
      return
    }
    if (
      this.#networkErrorSinceHello &&
      this.#session &&
      this.#networkResumes < this.#options.maxNetworkResumes
    ) {
      this.#networkResumes++
      this.#options.logger.debug(
        { networkResumes: this.#networkResumes },
        'keeping the session across a network error',
      )
      return
    }
    this.#session = null
  }

  /** A socket said HELLO: the network is back. */
  onHello(): void {
    this.#networkErrorSinceHello = false
  }

  /** The socket failed at the network level (refused, reset, DNS...). */
  onSocketError(): void {
    this.#networkErrorSinceHello = true
  }

  /** READY or RESUMED: the session is live again. */
  onSessionLive(): void {
    this.#networkResumes = 0
  }
}
