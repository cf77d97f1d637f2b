import type { REST } from '@discordjs/rest'
import type { VoiceMember } from '@repo/discord-integration/contracts'
import type { GatewayDispatchPayload } from 'discord-api-types/v10'
import { GatewayDispatchEvents } from 'discord-api-types/v10'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { ConnectionTimings } from '../gateway/connection-options'
import { GatewayConnection } from '../gateway/gateway-connection'
import type { GatewayStatus } from '../gateway-status'
import { StatusTracker } from '../gateway-status'
import { sleep } from '../supervision/backoff'
import type { Clock } from '../supervision/clock'
import type { Profile } from '../voice/voice-member'
import type { VoiceStoreState } from '../voice/voice-state-reducer'
import { applyDispatch } from '../voice/voice-state-reducer'
import type { WriterStats } from './fenced-writer'
import { FencedWriter } from './fenced-writer'
import type { LeaseGrant } from './gateway-lease'
import type { GatewayKeys, ShardRef, VoiceFeedKeys } from './keys'
import type { RestoredFeed } from './leader-state'

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
  | { readonly kind: 'connection_stopped'; readonly reason: string; readonly fatal: boolean }

/** Options of {@link LeaderTerm}. */
export interface LeaderTermOptions {
  guildId: string
  grant: LeaseGrant
  restored: RestoredFeed
  redis: Redis
  gatewayKeys: GatewayKeys
  feedKeys: VoiceFeedKeys
  shard: ShardRef
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
 * One stretch of leadership: the gateway connection, the reducer restored from Redis, and the
 * fenced writer. Every dispatch (voice or not: the sequence must advance for a resume) becomes one
 * record, written in order. Ends when the candidate stops it (lease lost, shutdown) or by itself
 * (`onEnd`: fenced, queue full, the connection stopped).
 */
export class LeaderTerm {
  readonly status = new StatusTracker()
  readonly #o: LeaderTermOptions
  readonly #state: VoiceStoreState
  readonly #writer: FencedWriter
  readonly #connection: GatewayConnection
  #resumeURL: string | null
  #handover: Handover
  #stopping = false

  constructor(options: LeaderTermOptions) {
    this.#o = options
    this.#state = options.restored.state
    this.#resumeURL = options.restored.session?.resumeURL ?? null
    this.#handover = {
      at: options.grant.acquiredAt,
      durationMs: null,
      mode: null,
      token: options.grant.token,
    }
    this.#writer = new FencedWriter({
      redis: options.redis,
      gatewayKeys: options.gatewayKeys,
      feedKeys: options.feedKeys,
      shard: options.shard,
      token: options.grant.token,
      epoch: options.restored.epoch,
      streamMaxLen: options.streamMaxLen,
      maxQueue: options.maxQueue,
      logger: options.logger,
      state: () => ({
        sessionId: this.#state.sessionId,
        seq: this.#state.seq,
        resumeURL: this.#resumeURL,
        feedSeq: this.#state.feedSeq,
        synced: this.#state.synced,
        members: this.#state.members.values(),
        profiles: this.#state.profiles.entries(),
      }),
      onFenced: () => this.#end({ kind: 'fenced' }),
      onOverflow: () => this.#end({ kind: 'overflow' }),
      onFenceMissing: () => options.checkLease(),
    })
    this.#connection = new GatewayConnection({
      token: options.token,
      guildMembersIntent: options.guildMembersIntent,
      rest: options.rest,
      logger: options.logger,
      status: this.status,
      timings: options.timings,
      ...(options.random ? { random: options.random } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      onDispatch: (payload, receivedAt) => this.#onDispatch(payload, receivedAt),
      appliedSequence: (sessionId) =>
        this.#state.sessionId === sessionId ? this.#state.seq : null,
      mayConnect: options.mayConnect,
    })
    this.status.onChange(({ to, status }) => {
      if (to !== 'stopped' || this.#stopping) return
      this.#end({
        kind: 'connection_stopped',
        reason: status.stoppedReason ?? 'stopped',
        fatal: status.alert !== null,
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

  writer(): WriterStats {
    return this.#writer.stats()
  }

  /** Connects: RESUMEs the restored session, or identifies when there is none. */
  start(): void {
    const { restored } = this.#o
    this.#o.logger.info(
      {
        token: this.token,
        epoch: restored.epoch,
        feedSeq: restored.state.feedSeq,
        seq: restored.state.seq,
        resume: restored.session !== null,
      },
      restored.session ? 'leading: resuming the stored gateway session' : 'leading: identifying',
    )
    if (restored.epoch === null) this.#writer.reseed('no feed in Redis')
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
    const state = this.#state
    const sessionBefore = state.sessionId
    const result = applyDispatch(state, { payload, receivedAt })
    if (payload.t === GatewayDispatchEvents.Ready && state.sessionId !== sessionBefore) {
      this.#resumeURL = payload.d.resume_gateway_url
    }
    if (this.#handover.mode === null) {
      if (payload.t === GatewayDispatchEvents.Ready) this.#markHandover('identified')
      if (payload.t === GatewayDispatchEvents.Resumed) this.#markHandover('resumed')
    }
    if (!result.changed || state.sessionId === null) return
    const members = new Map<string, VoiceMember | null>()
    for (const event of result.events)
      members.set(event.userId, state.members.get(event.userId) ?? null)
    const profiles: [string, Profile][] = []
    for (const userId of result.profilesChanged ?? []) {
      const profile = state.profiles.get(userId)
      if (profile) profiles.push([userId, profile])
    }
    this.#writer.push({
      sessionId: state.sessionId,
      seq: state.seq,
      synced: state.synced,
      resumeURL: payload.t === GatewayDispatchEvents.Ready ? payload.d.resume_gateway_url : null,
      events: result.events,
      members: [...members],
      profiles,
    })
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
