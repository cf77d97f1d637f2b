import type { REST } from '@discordjs/rest'
import type { APIGatewayBotInfo } from 'discord-api-types/v10'
import { Routes } from 'discord-api-types/v10'
import type { Logger } from 'pino'
import type { StatusTracker } from '../gateway-status'
import type { BackoffOptions } from '../supervision/backoff'
import { fullJitterDelay } from '../supervision/backoff'
import type { Clock } from '../supervision/clock'

/** What {@link fetchGatewayInfoWithBackoff} needs. */
export interface GatewayInfoRequest {
  rest: REST
  clock: Clock
  backoff: BackoffOptions
  random: () => number
  /** Ends the retries (the promise then rejects with the abort reason). */
  signal: AbortSignal
  /** After each failure, before waiting `delayMs` for retry number `retry`. */
  onRetry(error: unknown, retry: number, delayMs: number): void
}

/**
 * GET /gateway/bot until it answers: the gateway URL before the first connect and the identify
 * budget before every IDENTIFY. 429s are waited out inside @discordjs/rest (Retry-After); any
 * other failure (REST down, 5xx after its own retries) is retried here with the gateway's backoff,
 * forever. Rejects only when `signal` aborts.
 */
export async function fetchGatewayInfoWithBackoff(
  request: GatewayInfoRequest,
): Promise<APIGatewayBotInfo> {
  const { rest, clock, backoff, random, signal } = request
  for (let retry = 1; ; retry++) {
    try {
      return (await rest.get(Routes.gatewayBot(), { signal })) as APIGatewayBotInfo
    } catch (error) {
      signal.throwIfAborted()
      const delayMs = fullJitterDelay(retry, backoff, random)
      request.onRetry(error, retry, delayMs)
      await clock.sleep(delayMs, signal)
    }
  }
}

/**
 * GET /gateway/bot's recommended shard count (at least 1), retried like
 * {@link fetchGatewayInfoWithBackoff}; `status` shows the attempts (`connecting`, then
 * `backing_off` with the last error after each failure).
 */
export async function recommendedShardCount(
  request: Omit<GatewayInfoRequest, 'onRetry'>,
  status: StatusTracker,
  logger: Logger,
): Promise<number> {
  status.setState('connecting')
  const info = await fetchGatewayInfoWithBackoff({
    ...request,
    onRetry: (error, retry, delayMs) => {
      status.patch({
        lastError: { message: `GET /gateway/bot failed (attempt ${retry})`, at: Date.now() },
      })
      status.setState('backing_off')
      logger.error(
        { err: error, retry, delayMs },
        `GET /gateway/bot failed (attempt ${retry}); retrying in ${delayMs} ms`,
      )
    },
  })
  return Math.max(1, info.shards)
}
