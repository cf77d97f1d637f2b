import type { APIGatewayBotInfo } from 'discord-api-types/v10'
import type { Clock } from '../supervision/clock'

type SessionStartLimit = APIGatewayBotInfo['session_start_limit']

/** What the {@link IdentifyGate} needs from the connection. */
export interface IdentifyGateOptions {
  clock: Clock
  /** The breaker opens (no IDENTIFY) while fewer identifies than this remain in the daily budget. */
  minRemaining: number
  /** Minimum spacing between two IDENTIFYs (Discord allows max_concurrency per 5 s). */
  spacingMs: number
  /** The budget as Discord reports it now (GET /gateway/bot, retried until it answers). */
  sessionStartLimit(signal: AbortSignal): Promise<SessionStartLimit>
  /** The breaker opened: raise the alert; the gate then waits `waitMs` and asks again. */
  onBreakerOpen(limit: SessionStartLimit, waitMs: number): void
}

/**
 * Decides when the next IDENTIFY may go out. Running out of the identify budget ends every session
 * and resets the bot token (Discord docs, session_start_limit), so below `minRemaining` the gate
 * stays shut until the budget resets; and two IDENTIFYs are at least `spacingMs` apart.
 * @discordjs/ws has no budget check of its own and asks its strategy (`waitForIdentify`) before
 * every IDENTIFY, which is where the connection calls {@link IdentifyGate.wait}.
 */
export class IdentifyGate {
  readonly #options: IdentifyGateOptions
  #lastIdentifyAt = Number.NEGATIVE_INFINITY

  constructor(options: IdentifyGateOptions) {
    this.#options = options
  }

  /** Resolves when an IDENTIFY may be sent now (and counts it as sent); rejects only on abort. */
  async wait(signal: AbortSignal): Promise<void> {
    const { clock, minRemaining, spacingMs } = this.#options
    for (;;) {
      const limit = await this.#options.sessionStartLimit(signal)
      if (limit.remaining >= minRemaining) break
      const waitMs = Math.max(limit.reset_after, 1000)
      this.#options.onBreakerOpen(limit, waitMs)
      await clock.sleep(waitMs, signal)
    }
    const spacing = this.#lastIdentifyAt + spacingMs - clock.now()
    if (spacing > 0) await clock.sleep(spacing, signal)
    signal.throwIfAborted()
    this.#lastIdentifyAt = clock.now()
  }
}
