import type { REST } from '@discordjs/rest'
import type { GatewayDispatchPayload } from 'discord-api-types/v10'
import { GatewayDispatchEvents } from 'discord-api-types/v10'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { ConnectionTimings } from '../gateway/connection-options'
import { GatewayConnection } from '../gateway/gateway-connection'
import type { GatewayStatus } from '../gateway-status'
import { StatusTracker } from '../gateway-status'
import type { ShardCursor, StoreStep } from '../guilds/guild-store'
import { createShardCursor, GuildStore } from '../guilds/guild-store'
import { sleep } from '../supervision/backoff'
import type { Clock } from '../supervision/clock'
import { dispatchItems } from './dispatch-items'
import type { FeedState, WriterStats } from './fenced-writer'
import type { LeaseGrant } from './gateway-lease'
import type { GatewayKeys, GuildKeys, ShardRef } from './keys'
import type { RestoredShard } from './leader-state'
import { ShardWriter } from './shard-writer'

/** How the gateway came to this process. */
export interface Handover {
  /** Epoch ms when this process took the lease. */
  readonly at: number
  /** From taking the lease to READY or RESUMED (null while still connecting). */
  readonly durationMs: number | null
  /** RESUMED the stored session, or IDENTIFIED a new one (null while still connecting). */
  readonly mode: 'resumed' | 'identified' | null
  readonly token: number
}

/** Why a term ended by itself. */
export type TermEnd =
  | { readonly kind: 'fenced' }
  | { readonly kind: 'overflow' }
  | {
      readonly kind: 'connection_stopped'
      readonly reason: string
      readonly fatal: boolean
      /** The fatal close code (null: stopped for another reason). */
      readonly code: number | null
    }

/** Options of {@link LeaderTerm}. */
export interface LeaderTermOptions {
  grant: LeaseGrant
  restored: RestoredShard
  redis: Redis
  prefix: string
  gatewayKeys: GatewayKeys
  guildKeys: GuildKeys
  shard: ShardRef
  /** How long after READY the guilds it lists may take to arrive (then: unavailable). */
  guildReadyTimeoutMs?: number
  streamMaxLen: number
  maxQueue: number
  /** Bot token (without `Bot `). */
  token: string
  rest: REST
  guildMembersIntent: boolean
  timings: ConnectionTimings
  random?: () => number
  clock?: Clock
  /** The lease's say before every socket and IDENTIFY. */
  mayConnect(signal: AbortSignal): Promise<boolean>
  /** Asks the lease to check Redis now (the writer found no fence: Redis lost everything). */
  checkLease(): void
  logger: Logger
  onEnd(end: TermEnd): void
  onHandover?(handover: Handover): void
}

/**
 * One stretch of leadership of one shard: the shard's gateway connection, every guild of the
 * shard restored from Redis into a GuildStore, and the ShardWriter. Every guild dispatch becomes
 * one record of its guild (voice or not: the guild's position must advance), guild changes go to
 * the guild list, all in dispatch order. Ends when the candidate stops it (lease lost, shutdown)
 * or by itself (`onEnd`: fenced, queue full, the connection stopped).
 */
export class LeaderTerm {
  readonly status = new StatusTracker()
  readonly #o: LeaderTermOptions
  readonly #store = new GuildStore()
  readonly #cursor: ShardCursor
  readonly #writer: ShardWriter
  readonly #connection: GatewayConnection
  #resumeURL: string | null
  #handover: Handover
  #pendingTimer: NodeJS.Timeout | null = null
  #stopping = false
  #fatalCode: number | null = null
  /** Guilds whose feed this term has restored or started (the others start from a baseline). */
  readonly #fed = new Set<string>()

  constructor(options: LeaderTermOptions) {
    this.#o = options
    const { restored } = options
    for (const guild of restored.guilds) {
      this.#store.restore(guild.presence, guild.state)
      if (guild.epoch !== null) this.#fed.add(guild.presence.id)
    }
    this.#cursor = createShardCursor(options.shard.id, options.shard.count)
    if (restored.session) {
      this.#cursor.sessionId = restored.session.sessionId
      this.#cursor.seq = restored.session.sequence
      this.#cursor.settled = restored.settled
    }
    this.#resumeURL = restored.session?.resumeURL ?? null
    this.#handover = {
      at: options.grant.acquiredAt,
      durationMs: null,
      mode: null,
      token: options.grant.token,
    }
    this.#writer = new ShardWriter({
      redis: options.redis,
      prefix: options.prefix,
      gatewayKeys: options.gatewayKeys,
      guildKeys: options.guildKeys,
      shard: options.shard,
      token: options.grant.token,
      epochs: new Map(restored.guilds.map((g) => [g.presence.id, g.epoch])),
      streamMaxLen: options.streamMaxLen,
      maxQueue: options.maxQueue,
      logger: options.logger,
      guildState: (guildId) => this.#guildState(guildId),
      settled: () => this.#cursor.settled,
      guildPresence: (guildId) => {
        const entry = this.#store.get(guildId)
        return entry
          ? { id: guildId, name: entry.name, available: entry.available, shardId: entry.shardId }
          : null
      },
      onFenced: () => this.#end({ kind: 'fenced' }),
      onOverflow: () => this.#end({ kind: 'overflow' }),
      onFenceMissing: () => options.checkLease(),
    })
    this.#connection = new GatewayConnection({
      token: options.token,
      guildMembersIntent: options.guildMembersIntent,
      shard: options.shard,
      rest: options.rest,
      logger: options.logger,
      status: this.status,
      timings: options.timings,
      ...(options.random ? { random: options.random } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      onDispatch: (payload, receivedAt) => this.#onDispatch(payload, receivedAt),
      appliedSequence: (sessionId) =>
        this.#cursor.sessionId === sessionId ? this.#cursor.seq : null,
      mayConnect: options.mayConnect,
      onFatalClose: (code) => {
        this.#fatalCode = code
      },
    })
    this.status.onChange(({ to, status }) => {
      if (to !== 'stopped' || this.#stopping) return
      this.#end({
        kind: 'connection_stopped',
        reason: status.stoppedReason ?? 'stopped',
        fatal: status.alert !== null,
        code: this.#fatalCode,
      })
    })
  }

  get handover(): Handover {
    return this.#handover
  }

  get token(): number {
    return this.#handover.token
  }

  gateway(): GatewayStatus {
    return this.status.get()
  }

  writer(): WriterStats & { guildChanges: number; guilds: number } {
    return this.#writer.stats()
  }

  /** The shard's guilds as this leader sees them. */
  guilds(): number {
    return this.#store.size
  }

  /** Connects: RESUMEs the restored session, or identifies when there is none. */
  start(): void {
    const { restored } = this.#o
    this.#o.logger.info(
      {
        token: this.token,
        guilds: restored.guilds.length,
        seq: this.#cursor.seq,
        resume: restored.session !== null,
      },
      restored.session ? 'leading: resuming the stored gateway session' : 'leading: identifying',
    )
    this.#connection.setSession(restored.session)
    this.#connection.start()
  }

  /** Redis lost the lease and we took it again: later writes carry the new token. */
  setToken(token: number): void {
    this.#writer.setToken(token)
    this.#handover = { ...this.#handover, token }
  }

  /**
   * Ends the term: the connection closes with 4200 (the session stays resumable for the next
   * leader), what the writer still holds gets up to `flushMs` to reach Redis, then it closes.
   */
  async stop(reason: string, flushMs: number): Promise<void> {
    this.#stopping = true
    if (this.#pendingTimer) clearTimeout(this.#pendingTimer)
    await this.#connection.stop(reason)
    if (flushMs > 0 && !this.#writer.closed) {
      const wait = new AbortController()
      await Promise.race([this.#writer.idle(), sleep(flushMs, wait.signal).catch(() => {})])
      wait.abort()
    }
    this.#writer.close()
  }

  #end(end: TermEnd): void {
    // A refusal while stepping down is still reported (it is counted); nothing else is.
    if (this.#stopping && end.kind !== 'fenced') return
    this.#o.onEnd(end)
  }

  #onDispatch(payload: GatewayDispatchPayload, receivedAt: number): void {
    const cursor = this.#cursor
    const result = this.#store.apply(cursor, payload, receivedAt)
    if (payload.t === GatewayDispatchEvents.Ready && !result.duplicate) {
      this.#resumeURL = payload.d.resume_gateway_url
      if (this.#pendingTimer) clearTimeout(this.#pendingTimer)
      this.#pendingTimer = null
      if (!cursor.settled) {
        this.#pendingTimer = setTimeout(
          () => this.#write(this.#store.expirePending(cursor), null),
          this.#o.guildReadyTimeoutMs ?? 15_000,
        )
        this.#pendingTimer.unref()
      }
    }
    if (this.#handover.mode === null) {
      if (payload.t === GatewayDispatchEvents.Ready) this.#markHandover('identified')
      if (payload.t === GatewayDispatchEvents.Resumed) this.#markHandover('resumed')
    }
    if (result.duplicate) return
    this.#write(result.steps, payload)
  }

  /** One dispatch's writes, in order (see {@link dispatchItems}). */
  #write(steps: readonly StoreStep[], payload: GatewayDispatchPayload | null): void {
    const items = dispatchItems({
      steps,
      payload,
      store: this.#store,
      cursor: this.#cursor,
      resumeURL: this.#resumeURL,
      fed: this.#fed,
    })
    for (const item of items) this.#writer.push(item)
  }

  /** A guild's whole state for its reseed (an unknown guild: empty). */
  #guildState(guildId: string): FeedState {
    const state = this.#store.get(guildId)?.state
    return {
      sessionId: state?.sessionId ?? this.#cursor.sessionId,
      seq: state?.seq ?? this.#cursor.seq,
      resumeURL: null,
      feedSeq: state?.feedSeq ?? 0,
      synced: state?.synced ?? false,
      members: state?.members.values() ?? [],
      profiles: state?.profiles.entries() ?? [],
    }
  }

  #markHandover(mode: 'resumed' | 'identified'): void {
    this.#handover = { ...this.#handover, mode, durationMs: Date.now() - this.#handover.at }
    this.#o.logger.info(
      { handoverMs: this.#handover.durationMs, mode, token: this.token },
      `gateway ${mode} ${this.#handover.durationMs} ms after taking the lease`,
    )
    this.#o.onHandover?.(this.#handover)
  }
}
