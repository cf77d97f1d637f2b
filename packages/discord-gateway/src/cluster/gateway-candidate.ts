import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { REST } from '@discordjs/rest'
import { GatewayCloseCodes } from 'discord-api-types/v10'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { pino } from 'pino'
import { GatewayError } from '../errors'
import type { ConnectionTimings } from '../gateway/connection-options'
import { DEFAULT_TIMINGS } from '../gateway/connection-options'
import type { GatewayStatus } from '../gateway-status'
import { childLogger } from '../logging'
import type { Clock } from '../supervision/clock'
import type { WriterStats } from './fenced-writer'
import type { LeaseGrant, LeaseHolder } from './gateway-lease'
import { GatewayLease } from './gateway-lease'
import type { ShardRef } from './keys'
import { gatewayKeys, guildKeys, ONE_SHARD } from './keys'
import type { RestoredShard } from './leader-state'
import { readShardState } from './leader-state'
import type { Handover, TermEnd } from './leader-term'
import { LeaderTerm } from './leader-term'
import { RECORD_HANDOVER } from './lease-scripts'
import { readShardCount } from './shard-count'

/** Where a candidate is in its lifecycle. */
export type CandidateState = 'idle' | 'candidate' | 'leading' | 'stepping_down' | 'stopped'

/** Options of {@link createGatewayCandidate}. */
export interface GatewayCandidateOptions {
  /** Bot token (without the `Bot ` prefix). */
  token: string
  /** REST base. @defaultValue 'https://discord.com/api' */
  apiUrl?: string
  /** A preconfigured @discordjs/rest instance (its token is set to `token`). */
  rest?: REST
  intents?: { guildMembers?: boolean }
  /** A command connection (lease, writes, reads); see createClusterRedis(). */
  redis: Redis
  /** The deployment's key prefix (REDIS_PREFIX), e.g. `tv:`. */
  prefix: string
  /** The shard this candidate competes for. @defaultValue shard 0 of 1 */
  shard?: ShardRef
  /** How long after READY the guilds it lists may take to arrive. @defaultValue 15_000 */
  guildReadyTimeoutMs?: number
  /** Polls that must find the lease free before trying (see GatewayLeaseOptions.deferPolls). */
  deferPolls?(): number
  /** @defaultValue `${hostname}:${pid}:${random}` */
  holderId?: string
  /** How long the lease outlives its last renewal (ms). */
  leaseMs: number
  /** How often a candidate tries to take a free lease. @defaultValue leaseMs/5 within [200, 1000] */
  pollMs?: number
  /** `XADD MAXLEN ~`. @defaultValue 10_000 */
  streamMaxLen?: number
  /** Records a leader may queue while Redis is unreachable before it steps down. @defaultValue 20_000 */
  maxQueue?: number
  /** How long a stepping-down leader lets its queued writes reach Redis. @defaultValue min(leaseMs/2, 2000) */
  flushMs?: number
  logger?: Logger
  /** Reconnect backoff of the gateway connection. @defaultValue the gateway's schedule */
  backoff?: { baseMs?: number; maxMs?: number }
  timings?: Partial<ConnectionTimings>
  random?: () => number
  clock?: Clock
  /**
   * A shard count that follows Discord (no DISCORD_SHARD_COUNT): `required` after a close 4011
   * (the owner moves the deployment to more shards), `moved` once the deployment's count in Redis
   * is no longer this candidate's (the owner starts candidates for the new count). Either way this
   * candidate has stopped competing. Without it, both stop the candidate with an operator alert.
   */
  resharding?: { required(shard: ShardRef): void; moved(count: number): void }
}

/** A health view of one candidate. */
export interface CandidateStatus {
  holderId: string
  state: CandidateState
  /** This process leads the gateway (holds the lease and runs the connection). */
  isLeader: boolean
  /** Our fencing token while leading. */
  token: number | null
  /** Who leads, as last seen (ourselves while leading). */
  leader: LeaseHolder | null
  /** The latest time this process took the gateway over. */
  lastHandover: Handover | null
  lastStepDown: { at: number; reason: string } | null
  terms: number
  stepDowns: number
  /** Writes of ours the fencing token refused (each ends a term). */
  fenceRefusals: number
  /** The current term's writer, else null. */
  writer: WriterStats | null
  /** The current term's connection, else null. */
  gateway: GatewayStatus | null
  /** Why the candidate stopped competing, when an operator must act (fatal close code). */
  alert: string | null
}

/** One process competing for a shard's gateway: the lease, and a leadership term while it holds it. */
export interface GatewayCandidate {
  readonly holderId: string
  readonly shard: ShardRef
  start(): void
  /** Stops competing; if leading: closes with 4200, flushes what it can, releases the lease. */
  stop(): Promise<void>
  status(): CandidateStatus
}

/** Creates a candidate. Nothing happens until `start()`. */
export function createGatewayCandidate(options: GatewayCandidateOptions): GatewayCandidate {
  if (!options.token) throw new GatewayError('INVALID_CONFIG', 'token is required')
  if (!(options.leaseMs >= 300))
    throw new GatewayError('INVALID_CONFIG', 'leaseMs must be at least 300')
  return new Candidate(options)
}

class Candidate implements GatewayCandidate {
  readonly holderId: string
  readonly #o: GatewayCandidateOptions
  readonly #log: Logger
  readonly #lease: GatewayLease
  readonly #rest: REST
  readonly #timings: ConnectionTimings
  readonly shard: ShardRef
  readonly #keys
  #state: CandidateState = 'idle'
  #term: LeaderTerm | null = null
  #chain: Promise<void> = Promise.resolve()
  #lastHandover: Handover | null = null
  #lastStepDown: { at: number; reason: string } | null = null
  #terms = 0
  #stepDowns = 0
  #fenceRefusals = 0
  #alert: string | null = null

  constructor(options: GatewayCandidateOptions) {
    this.#o = options
    this.holderId =
      options.holderId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
    this.#log = childLogger(options.logger ?? pino({ name: 'discord-gateway' }), {
      component: 'gateway-candidate',
      holderId: this.holderId,
    })
    this.shard = options.shard ?? ONE_SHARD
    if (this.shard.count > 1 || this.shard.id > 0) {
      this.#log = this.#log.child({ shardId: this.shard.id, shardCount: this.shard.count })
    }
    this.#keys = {
      gateway: gatewayKeys(options.prefix, this.shard),
      guilds: guildKeys(options.prefix),
    }
    this.#rest =
      options.rest ?? new REST({ api: options.apiUrl ?? 'https://discord.com/api', version: '10' })
    this.#rest.setToken(options.token)
    this.#timings = {
      ...DEFAULT_TIMINGS,
      ...options.timings,
      backoff: { ...DEFAULT_TIMINGS.backoff, ...options.backoff, ...options.timings?.backoff },
    }
    this.#lease = new GatewayLease({
      redis: options.redis,
      keys: this.#keys.gateway,
      holderId: this.holderId,
      ttlMs: options.leaseMs,
      logger: this.#log,
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
      ...(options.deferPolls ? { deferPolls: options.deferPolls } : {}),
    })
    this.#lease.onAcquired((grant) => {
      if (grant.reacquired) this.#term?.setToken(grant.token)
      else this.#enqueue(() => this.#lead(grant))
    })
    this.#lease.onLost((reason) =>
      this.#enqueue(() => this.#stepDown(`gateway lease lost (${reason})`)),
    )
  }

  start(): void {
    if (this.#state !== 'idle') return
    this.#setState('candidate')
    this.#lease.start()
  }

  stop(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#state === 'stopped') return
      await this.#stepDown('process stopping')
      await this.#lease.stop()
      this.#setState('stopped')
    })
  }

  status(): CandidateStatus {
    const term = this.#term
    const leading = this.#state === 'leading' && term !== null
    return {
      holderId: this.holderId,
      state: this.#state,
      isLeader: leading && this.#lease.holds(),
      token: leading ? term.token : null,
      leader: this.#lease.leader,
      lastHandover: this.#lastHandover,
      lastStepDown: this.#lastStepDown,
      terms: this.#terms,
      stepDowns: this.#stepDowns,
      fenceRefusals: this.#fenceRefusals,
      writer: term?.writer() ?? null,
      gateway: term?.gateway() ?? null,
      alert: this.#alert,
    }
  }

  /** Lifecycle steps run one at a time (a term is fully stopped before the next starts). */
  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(step)
    this.#chain = run.catch((error: unknown) =>
      this.#log.error({ err: error }, 'gateway candidate step failed'),
    )
    return run
  }

  #setState(to: CandidateState): void {
    if (this.#state === to || this.#state === 'stopped') return
    this.#log.info({ from: this.#state, to }, `gateway candidate ${this.#state} -> ${to}`)
    this.#state = to
  }

  async #lead(grant: LeaseGrant): Promise<void> {
    if (this.#state !== 'candidate' || this.#term || !this.#lease.holds()) return
    let restored: RestoredShard
    try {
      restored = await readShardState(this.#o.redis, this.#o.prefix, this.shard)
    } catch (error) {
      this.#log.error({ err: error }, 'could not read the feed from Redis; giving the lease up')
      await this.#lease.release()
      return
    }
    if (restored.count !== null && restored.count !== this.shard.count) {
      await this.#lease.release()
      await this.#countMoved(restored.count)
      return
    }
    const token = this.#lease.token
    if (!this.#lease.holds() || token === null || this.#state !== 'candidate') return
    if (restored.invalid > 0) {
      this.#log.warn(
        { invalid: restored.invalid },
        'left out unreadable members or profiles in Redis',
      )
    }
    const term: LeaderTerm = new LeaderTerm({
      grant: { ...grant, token },
      restored,
      redis: this.#o.redis,
      prefix: this.#o.prefix,
      gatewayKeys: this.#keys.gateway,
      guildKeys: this.#keys.guilds,
      shard: this.shard,
      ...(this.#o.guildReadyTimeoutMs ? { guildReadyTimeoutMs: this.#o.guildReadyTimeoutMs } : {}),
      streamMaxLen: this.#o.streamMaxLen ?? 10_000,
      maxQueue: this.#o.maxQueue ?? 20_000,
      token: this.#o.token,
      rest: this.#rest,
      guildMembersIntent: this.#o.intents?.guildMembers ?? false,
      timings: this.#timings,
      ...(this.#o.random ? { random: this.#o.random } : {}),
      ...(this.#o.clock ? { clock: this.#o.clock } : {}),
      mayConnect: () => this.#mayConnect(),
      checkLease: () => void this.#lease.confirm(),
      logger: this.#log,
      onEnd: (end) => void this.#enqueue(() => this.#onTermEnd(term, end)),
      onHandover: (handover) => {
        this.#lastHandover = handover
        void this.#recordHandover(handover)
      },
    })
    this.#term = term
    this.#terms++
    this.#lastHandover = term.handover
    this.#setState('leading')
    term.start()
  }

  async #onTermEnd(term: LeaderTerm, end: TermEnd): Promise<void> {
    if (end.kind === 'fenced') this.#fenceRefusals++ // also a term already stepping down
    if (this.#term !== term) return
    switch (end.kind) {
      case 'fenced':
        this.#lease.surrender() // -> lost('fenced') -> step down
        return
      case 'overflow':
        await this.#lease.release() // -> lost('released') -> step down; the next leader resumes
        return
      case 'connection_stopped':
        if (!end.fatal) {
          await this.#stepDown(end.reason)
          await this.#lease.release()
          return
        }
        if (end.code === GatewayCloseCodes.ShardingRequired && this.#o.resharding) {
          // The bot outgrew the shard count: the owner moves every node to more shards.
          const resharding = this.#o.resharding
          await this.#retire(end.reason, null, () => resharding.required(this.shard))
          return
        }
        // A fatal close code (bad token, intents...): this process's configuration is wrong.
        // It leaves the lease to the others and stops competing until an operator fixes it.
        await this.#retire(end.reason, end.reason)
    }
  }

  /**
   * Before every socket and IDENTIFY: the lease is ours, and the deployment still runs our shard
   * count (after a reshard, an IDENTIFY under the old count would only earn another 4011).
   */
  async #mayConnect(): Promise<boolean> {
    if (!(await this.#lease.confirm())) return false
    const count = await readShardCount(this.#o.redis, this.#o.prefix).catch(() => null)
    if (count === null || count === this.shard.count) return true
    void this.#enqueue(() => this.#countMoved(count))
    return false
  }

  /** The deployment runs `count` shards now, not ours: the owner replaces us, or an operator must. */
  #countMoved(count: number): Promise<void> {
    const reason = `the deployment runs ${count} shards, this candidate ${this.shard.count}`
    const resharding = this.#o.resharding
    if (resharding) return this.#retire(reason, null, () => resharding.moved(count))
    return this.#retire(reason, `${reason} (DISCORD_SHARD_COUNT): set the same count on every node`)
  }

  /** Stops competing for good: steps down, gives the lease up, then `then` (or raises `alert`). */
  async #retire(reason: string, alert: string | null, then?: () => void): Promise<void> {
    if (this.#state === 'stopped') return
    if (alert) {
      this.#alert = alert
      this.#log.error({ alert: true, reason: alert }, 'gateway candidate stops competing')
    } else {
      this.#log.warn({ reason }, 'gateway candidate retires')
    }
    await this.#stepDown(reason)
    await this.#lease.stop()
    this.#setState('stopped')
    then?.()
  }

  /** Tells every node (their health reads it) how the gateway came here; fenced, best effort. */
  async #recordHandover(handover: Handover): Promise<void> {
    try {
      await RECORD_HANDOVER.run(
        this.#o.redis,
        [this.#keys.gateway.fence, this.#keys.gateway.handover],
        [
          handover.token,
          this.holderId,
          handover.at,
          handover.durationMs ?? 0,
          handover.mode ?? 'identified',
        ],
      )
    } catch (error) {
      this.#log.debug({ err: error }, 'could not record the handover in Redis')
    }
  }

  async #stepDown(reason: string): Promise<void> {
    const term = this.#term
    if (!term) return
    this.#term = null
    this.#setState('stepping_down')
    this.#stepDowns++
    this.#lastStepDown = { at: Date.now(), reason }
    this.#log.warn({ reason, token: term.token }, 'stepping down from the gateway')
    await term.stop(reason, this.#o.flushMs ?? Math.min(this.#o.leaseMs / 2, 2_000))
    this.#setState('candidate')
  }
}
