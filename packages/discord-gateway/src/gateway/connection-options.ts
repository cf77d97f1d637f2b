import type { REST } from '@discordjs/rest'
import type { GatewayDispatchPayload } from 'discord-api-types/v10'
import type { Logger } from 'pino'
import type { StatusTracker } from '../gateway-status'
import type { BackoffOptions } from '../supervision/backoff'
import { DEFAULT_BACKOFF } from '../supervision/backoff'
import type { Clock } from '../supervision/clock'
import type { IdentifyBuckets } from './identify-gate'

/** Timings of the connection; all injectable so tests run fast. */
export interface ConnectionTimings {
  /** Before every reconnect and every GET /gateway/bot retry. @defaultValue the gateway's schedule, 1 s doubling to 30 s */
  backoff: BackoffOptions
  /** Silent-socket watchdog: force a resume after this many heartbeat intervals without a dispatch or ACK. */
  watchdogIntervals: number
  /** Heartbeat interval the watchdog assumes until it has measured the socket's (ms). */
  defaultHeartbeatMs: number
  /** Minimum spacing between two IDENTIFYs (Discord allows max_concurrency per 5 s). */
  identifySpacingMs: number
  /** Breaker: do not identify while fewer identifies than this remain in the daily budget. */
  minIdentifyRemaining: number
  handshakeTimeoutMs: number
  helloTimeoutMs: number
  readyTimeoutMs: number
  /** Network-error closes after which a kept session is given up in favour of IDENTIFY. */
  maxNetworkResumes: number
}

export const DEFAULT_TIMINGS: ConnectionTimings = {
  backoff: { ...DEFAULT_BACKOFF },
  watchdogIntervals: 3,
  defaultHeartbeatMs: 41_250,
  identifySpacingMs: 5_000,
  minIdentifyRemaining: 10,
  handshakeTimeoutMs: 30_000,
  helloTimeoutMs: 60_000,
  readyTimeoutMs: 15_000,
  maxNetworkResumes: 3,
}

/** Everything the connection needs from its owner (the voice feed). */
export interface GatewayConnectionOptions {
  token: string
  guildMembersIntent: boolean
  /** The shard this connection is (IDENTIFY `shard`). @defaultValue shard 0 of 1 */
  shard?: { readonly id: number; readonly count: number }
  /** The identify buckets shared by the process's shards. @defaultValue this connection's own */
  identifyBuckets?: IdentifyBuckets
  /**
   * A close code fatal to us arrived (the connection stops right after). The sharded feed
   * reshards on 4011 (sharding required).
   */
  onFatalClose?(code: number): void
  rest: REST
  logger: Logger
  status: StatusTracker
  timings: ConnectionTimings
  /** Jitter source. @defaultValue Math.random */
  random?: () => number
  /** The connection's waits and instants. @defaultValue the system clock */
  clock?: Clock
  /** Called for every dispatch, synchronously and in arrival order. */
  onDispatch(payload: GatewayDispatchPayload, receivedAt: number): void
  /** The sequence the consumer has applied for a session (the library must resume from there). */
  appliedSequence(sessionId: string): number | null
  /**
   * Asked after the backoff before every socket the connection opens and before every IDENTIFY.
   * `false` (or a rejection) means this process may no longer speak for the gateway session (a
   * failover lease is lost): the connection halts at once, opens nothing, and never connects
   * again. @defaultValue always allowed (one process owns the session)
   */
  mayConnect?(signal: AbortSignal): Promise<boolean>
}
