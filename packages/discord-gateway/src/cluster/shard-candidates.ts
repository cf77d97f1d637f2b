import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { spreadDefer, startStaggered } from './candidate-start'
import type { GatewayCandidate, GatewayCandidateOptions } from './gateway-candidate'
import { createGatewayCandidate } from './gateway-candidate'
import type { ShardRef } from './keys'
import type { ShardCountRequest } from './shard-count'
import { readShardCount, reshardCount, settleShardCount } from './shard-count'

/** What every candidate of a process shares (the shard and the lease settings are per set). */
export type CandidateTemplate = Omit<
  GatewayCandidateOptions,
  'redis' | 'prefix' | 'leaseMs' | 'logger' | 'shard' | 'holderId' | 'deferPolls' | 'resharding'
>

/** Options of {@link ShardCandidates}. */
export interface ShardCandidatesOptions {
  redis: Redis
  prefix: string
  leaseMs: number
  /** DISCORD_SHARD_COUNT: the count is pinned (stored for every node; 4011 needs an operator). */
  explicitCount?: number | undefined
  /** GATEWAY_SHARD_IDS: the shards this process competes for (ids past the count are left out). */
  shardIds?: readonly number[] | undefined
  candidate: CandidateTemplate
  /** A candidate's holder id (`${base}#${shardId}` with several shards). */
  holderId?: string | undefined
  /** How often the stored shard count is read (a reshard made by another node). @defaultValue 1_000 */
  watchMs?: number
  logger: Logger
}

/**
 * This process's gateway candidates: one per shard of the deployment's shard count (or of
 * GATEWAY_SHARD_IDS), always of one count. The count is settled in Redis at start; unless it is
 * pinned, it then follows Redis: a close 4011 on any of our shards moves the deployment to more
 * shards (reshardCount), and whenever the stored count is not ours (our reshard, another node's,
 * or a node that found it first) the old candidates step down and give their leases up before
 * candidates of the new count start. The voice state is held per guild, not per shard, so each
 * guild's new leader restores it from Redis and diffs its GUILD_CREATE against it: nothing lost.
 * The only writer of the set and its count; changes run one at a time.
 */
export class ShardCandidates {
  readonly #o: ShardCandidatesOptions
  readonly #halt = new AbortController()
  #candidates: GatewayCandidate[] = []
  #count: number | null = null
  #chain: Promise<void> = Promise.resolve()
  #watch: NodeJS.Timeout | null = null
  #reshards = 0
  /** Moves to another count asked for and not finished yet, and since when (ms) there were some. */
  #moving = 0
  #movingSince: number | null = null

  constructor(options: ShardCandidatesOptions) {
    this.#o = options
  }

  /** The shard count the candidates run (null before it is settled). */
  get count(): number | null {
    return this.#count
  }

  /** Times this process moved to another shard count since it started. */
  get reshards(): number {
    return this.#reshards
  }

  /**
   * Set from the moment a move to another shard count is asked for (a 4011 on one of our shards,
   * or another count found in Redis) until the candidates of the new count run: old candidates
   * that report `stopped` meanwhile are being replaced, not failed. `since` is `Date.now()` time.
   */
  get resharding(): { since: number } | null {
    return this.#movingSince === null ? null : { since: this.#movingSince }
  }

  list(): readonly GatewayCandidate[] {
    return this.#candidates
  }

  /** Settles the count (retrying Redis until it answers), starts the candidates, then watches the count. */
  start(): Promise<void> {
    return this.#enqueue(async () => {
      let count: number
      try {
        count = await settleShardCount({ ...this.#request(), explicit: this.#o.explicitCount })
      } catch (error) {
        if (!this.#halt.signal.aborted) {
          this.#o.logger.error({ err: error }, 'could not settle the shard count')
        }
        return
      }
      await this.#run(count)
      this.#scheduleWatch()
    })
  }

  /** Stops every candidate (closing with 4200, flushing, releasing the leases). */
  async stop(): Promise<void> {
    this.#halt.abort()
    if (this.#watch) clearTimeout(this.#watch)
    await this.#enqueue(async () => {
      await Promise.all(this.#candidates.map((c) => c.stop()))
    })
  }

  #request(): Omit<ShardCountRequest, 'explicit'> {
    const c = this.#o.candidate
    return {
      redis: this.#o.redis,
      prefix: this.#o.prefix,
      token: c.token,
      apiUrl: c.apiUrl,
      rest: c.rest,
      backoff: c.backoff,
      clock: c.clock,
      random: c.random,
      signal: this.#halt.signal,
      logger: this.#o.logger,
    }
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(step)
    this.#chain = run.catch((error: unknown) =>
      this.#o.logger.error({ err: error }, 'shard candidates step failed'),
    )
    return run
  }

  /** Starts one candidate per shard of `count` that this process runs. */
  async #run(count: number): Promise<void> {
    this.#count = count
    const wanted = this.#o.shardIds
    const refs: ShardRef[] = Array.from({ length: count }, (_, id) => ({ id, count })).filter(
      (shard) => !wanted || wanted.includes(shard.id),
    )
    const base = this.#o.holderId
    const pinned = this.#o.explicitCount !== undefined
    const candidates: GatewayCandidate[] = refs.map((shard) =>
      createGatewayCandidate({
        ...this.#o.candidate,
        redis: this.#o.redis,
        prefix: this.#o.prefix,
        leaseMs: this.#o.leaseMs,
        shard,
        logger: this.#o.logger,
        deferPolls: () => spreadDefer(candidates, shard),
        ...(base ? { holderId: refs.length > 1 ? `${base}#${shard.id}` : base } : {}),
        ...(pinned
          ? {}
          : {
              resharding: {
                required: (ref: ShardRef) => void this.#move(() => this.#reshard(ref.count)),
                moved: (to: number) => void this.#move(() => this.#follow(to)),
              },
            }),
      }),
    )
    this.#candidates = candidates
    await startStaggered(candidates, this.#halt.signal)
    this.#o.logger.info(
      { shardCount: count, shards: refs.map((s) => s.id) },
      'competing for the gateway shards',
    )
  }

  /** Queues a move to another count, counted in `resharding` from now until it ran. */
  #move(step: () => Promise<void>): Promise<void> {
    if (this.#moving++ === 0) this.#movingSince = Date.now()
    const done = () => {
      if (--this.#moving === 0) this.#movingSince = null
    }
    // A failed step is logged by #enqueue.
    return this.#enqueue(step).then(done, done)
  }

  /** Close 4011 on a shard of `from`: move the deployment to more shards, then follow it. */
  async #reshard(from: number): Promise<void> {
    if (this.#count !== from) return // already followed a newer count
    this.#o.logger.warn(
      { alert: true, fromCount: from },
      'gateway closed with 4011 (sharding required): resharding',
    )
    let to: number
    try {
      to = await reshardCount(this.#request(), from)
    } catch {
      return // stopping
    }
    await this.#follow(to)
  }

  /** The deployment runs `count` shards: replace our candidates when theirs is another. */
  async #follow(count: number): Promise<void> {
    if (count === this.#count || this.#halt.signal.aborted) return
    const from = this.#count
    this.#o.logger.warn({ from, to: count }, `the deployment moved to ${count} shards: following`)
    await Promise.all(this.#candidates.map((c) => c.stop()))
    this.#reshards++
    await this.#run(count)
  }

  /** Reads the stored count every `watchMs` (only while it follows Redis: not when pinned). */
  #scheduleWatch(): void {
    if (this.#o.explicitCount !== undefined || this.#halt.signal.aborted) return
    this.#watch = setTimeout(async () => {
      const stored = await readShardCount(this.#o.redis, this.#o.prefix).catch(() => null)
      if (stored !== null && stored !== this.#count) await this.#move(() => this.#follow(stored))
      this.#scheduleWatch()
    }, this.#o.watchMs ?? 1_000)
    this.#watch.unref()
  }
}
