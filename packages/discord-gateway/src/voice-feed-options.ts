import type { REST } from '@discordjs/rest'
import type { Logger } from 'pino'
import { GatewayError } from './errors'
import type { ConnectionTimings } from './gateway/connection-options'
import { DEFAULT_TIMINGS } from './gateway/connection-options'
import type { GatewaySessionStore } from './session/session-store'
import type { Clock } from './supervision/clock'

/** Options of {@link createVoiceFeed}. */
export interface VoiceFeedOptions {
  /** Bot token (without the `Bot ` prefix). */
  token: string
  /**
   * How many shards to run (`DISCORD_SHARD_COUNT`). Without it: the count the last run used (kept
   * in the session store, so its sessions resume), else GET /gateway/bot's recommended `shards`;
   * a close 4011 (sharding required) then re-reads the recommendation and reshards. With it, 4011
   * stops the shard with an operator alert (raise or unset the count).
   */
  shardCount?: number
  /**
   * How long a shard waits after READY for the GUILD_CREATE (or GUILD_DELETE) of each guild READY
   * listed before it counts the rest as unavailable (Discord sends nothing for a guild that stays
   * unavailable). @defaultValue 15_000
   */
  guildReadyTimeoutMs?: number
  /** REST base. @defaultValue 'https://discord.com/api' */
  apiUrl?: string
  /** GUILD_MEMBERS is privileged: enable only if it is enabled in the Developer Portal (else close 4014). */
  intents?: { guildMembers?: boolean }
  /** @defaultValue a MemorySessionStore */
  sessionStore?: GatewaySessionStore
  logger?: Logger
  /** Capped exponential backoff with full jitter. @defaultValue the gateway's schedule, `{ baseMs: 1000, maxMs: 30000 }` */
  backoff?: { baseMs?: number; maxMs?: number }
  /** Force a resume after `intervals` heartbeat intervals without a dispatch or ACK. @defaultValue `{ intervals: 3 }` */
  watchdog?: { intervals?: number }
  /** The breaker opens (no IDENTIFY) below `minRemaining` identifies left. @defaultValue `{ minRemaining: 10 }` */
  identifyBudget?: { minRemaining?: number }
  /** A preconfigured @discordjs/rest instance (its token is set to `token`). */
  rest?: REST
  /**
   * Persist the sessions and the voice state of every guild at most this often while dirty (ms).
   * Each save serialises the whole voice state: at 10,000 members, 2.5 MB of JSON and, with the file write, about
   * 7 MB of short-lived allocation. Saved every 5 s under 1,000 events/s, that was a tenth of
   * the server's allocation (V8's sampling heap profiler). A stop saves at once, and after a
   * crash the next process resumes from the saved sequence and Discord replays the rest (or,
   * past its resume window, sends the whole guild again), so a longer interval costs no events.
   * @defaultValue 30_000
   */
  persistIntervalMs?: number
  /** Fine-grained timings (tests). */
  timings?: Partial<ConnectionTimings>
  /** Random source for jitter (tests). */
  random?: () => number
  /** The connection's waits and instants: backoff, identify spacing, watchdog (tests). @defaultValue the system clock */
  clock?: Clock
}

/** The connection timings `options` ask for (the flat settings win over `timings`), over the defaults. */
export function feedTimings(options: VoiceFeedOptions): ConnectionTimings {
  return {
    ...DEFAULT_TIMINGS,
    ...options.timings,
    backoff: { ...DEFAULT_TIMINGS.backoff, ...options.backoff, ...options.timings?.backoff },
    watchdogIntervals:
      options.watchdog?.intervals ??
      options.timings?.watchdogIntervals ??
      DEFAULT_TIMINGS.watchdogIntervals,
    minIdentifyRemaining:
      options.identifyBudget?.minRemaining ??
      options.timings?.minIdentifyRemaining ??
      DEFAULT_TIMINGS.minIdentifyRemaining,
  }
}

/** INVALID_CONFIG without a token, or with a shard count that is not a positive integer. */
export function checkFeedOptions(options: VoiceFeedOptions): void {
  if (!options.token) throw new GatewayError('INVALID_CONFIG', 'token is required')
  const count = options.shardCount
  if (count !== undefined && (!Number.isSafeInteger(count) || count < 1)) {
    throw new GatewayError('INVALID_CONFIG', 'shardCount must be a positive integer')
  }
}
