import type { Logger } from 'pino'
import type { Clock } from '../../server/clock'
import type { ViewerPresence, VoicePresence } from '../../server/ports'
import type { DiscordGuilds } from './discord-rooms.server'
import type { CachedRoomDirectory } from './room-directory.server'
import type { RoomOps } from './room-ops.server'
import type { RoomRecord, RoomStore } from './room-store'
import {
  nextSeatDeadline,
  reviewSeats,
  type SeatReview,
  type SeatTiming,
  type Whereabouts,
} from './seat-holds'

export interface SeatKeeperOptions {
  store: RoomStore
  directory: CachedRoomDirectory
  discord: DiscordGuilds
  voice: Pick<VoicePresence, 'memberChannel'>
  viewers: ViewerPresence
  ops: RoomOps
  clock: Clock
  logger: Logger
  timing: SeatTiming
  /** Only the cleanup leader holds, restores and frees seats (one writer, on every node's truth). */
  isLeader: () => boolean
  /** Whether voice presence is known: nobody is taken for gone on missing data. */
  voiceReady: () => boolean
}

/** What one review of every room did, by room id. */
export interface SeatReport {
  held: string[]
  restored: string[]
  freed: string[]
}

/**
 * The part of the cleanup leader's sweeper that holds seats through drops (seat-holds.ts has the
 * rules). A player is here while their room page is open on any node (ViewerPresence, shared over
 * Redis) or they are in the room's voice channel (VoicePresence). The keeper notes when it first
 * saw a player gone, reviews a room as soon as one of its players' page or voice comes or goes,
 * wakes itself at the next drop to confirm or grace to end, and is also run over every room by
 * each sweep (a room nobody mentioned, a new leader). Each decision is taken again on the store's
 * latest copy inside `store.mutate`, then told (room.updated), then done on Discord (a freed seat
 * loses its channel access).
 */
export class SeatKeeper {
  readonly #o: SeatKeeperOptions
  /** Per room, per player: when this node first saw them gone. */
  readonly #awaySince = new Map<string, Map<string, number>>()
  /** Per room: when its seats next need a review. */
  readonly #deadlines = new Map<string, number>()
  readonly #pending = new Set<string>()
  #flush: unknown = null
  #timer: unknown = null
  #timerAt = Number.POSITIVE_INFINITY
  #unsubscribe: (() => void) | null = null

  constructor(options: SeatKeeperOptions) {
    this.#o = options
  }

  start(): void {
    this.#unsubscribe ??= this.#o.viewers.onChange((roomId) => this.note(roomId))
  }

  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
    if (this.#flush !== null) this.#o.clock.clearTimeout(this.#flush)
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer)
    this.#flush = null
    this.#timer = null
    this.#timerAt = Number.POSITIVE_INFINITY
  }

  /**
   * A player's page or voice may have come or gone in this room: review it on the next turn
   * (reviews of one turn are batched; a reconnect storm mentions a room many times).
   */
  note(roomId: string): void {
    if (!this.#o.isLeader()) return
    this.#pending.add(roomId)
    this.#flush ??= this.#o.clock.setTimeout(() => {
      this.#flush = null
      const rooms = [...this.#pending]
      this.#pending.clear()
      void this.#reviewEach(rooms)
    }, 0)
  }

  /** Reviews every room (the sweep's pass), and forgets what it noted about rooms that are gone. */
  async reviewAll(roomIds: readonly string[]): Promise<SeatReport> {
    const open = new Set(roomIds)
    for (const roomId of [...this.#awaySince.keys()])
      if (!open.has(roomId)) this.#awaySince.delete(roomId)
    for (const roomId of [...this.#deadlines.keys()])
      if (!open.has(roomId)) this.#deadlines.delete(roomId)
    return this.#reviewEach(roomIds)
  }

  /** When a seat next needs a review, for the scheduler (held seats' grace ends), epoch ms. */
  nextDeadline(rooms: Iterable<RoomRecord>): number | null {
    let next: number | null = null
    for (const room of rooms) {
      const at = nextSeatDeadline(
        room,
        (userId) => this.#awaySince.get(room.id)?.get(userId),
        this.#o.timing,
      )
      if (at !== null && (next === null || at < next)) next = at
    }
    return next
  }

  async #reviewEach(roomIds: readonly string[]): Promise<SeatReport> {
    const report: SeatReport = { held: [], restored: [], freed: [] }
    for (const roomId of roomIds) {
      try {
        const review = await this.review(roomId)
        if (!review) continue
        report.held.push(...review.held)
        report.restored.push(...review.restored)
        report.freed.push(...review.freed)
      } catch (error) {
        this.#o.logger.warn({ err: error, roomId }, 'reviewing a room’s seats failed')
      }
    }
    this.#arm()
    return report
  }

  /** Reviews one room's seats now; null when there was nothing to decide on (or not the leader). */
  async review(roomId: string): Promise<SeatReview | null> {
    const { directory, viewers, voice, clock, timing } = this.#o
    if (!this.#o.isLeader() || !viewers.synced || !this.#o.voiceReady()) return null
    const cached = directory.get(roomId)
    if (!cached) {
      this.#awaySince.delete(roomId)
      this.#deadlines.delete(roomId)
      return null
    }
    const now = clock.now()
    const away = this.#awaySince.get(roomId) ?? new Map<string, number>()
    // One reading per player for this review, so a store that retries its mutation on a
    // conflict runs the rules again on the same facts.
    const seen = new Map<string, Whereabouts>()
    const where = (userId: string): Whereabouts => {
      let known = seen.get(userId)
      if (!known) {
        const here =
          viewers.isViewing(roomId, userId) ||
          voice.memberChannel(cached.guildId, userId) === cached.channelId
        if (here) away.delete(userId)
        else if (!away.has(userId)) away.set(userId, now)
        known = { here, awaySince: away.get(userId) ?? now }
        seen.set(userId, known)
      }
      return known
    }
    const probe = reviewSeats(cached, where, now, timing)
    this.#keepAway(roomId, away, cached)
    if (probe.room === cached) {
      this.#plan(roomId, cached)
      return null
    }
    const review = await this.#o.store.mutate(roomId, (latest) => {
      const result = reviewSeats(latest, where, now, timing)
      if (!result.room || result.room === latest) return { result }
      return { next: result.room, result }
    })
    if (!review.room) return review
    this.#o.ops.remember(review.room)
    this.#keepAway(roomId, away, review.room)
    this.#plan(roomId, review.room)
    if (review.held.length + review.restored.length + review.freed.length === 0) return review
    this.#o.ops.publishState(review.room)
    const { held, restored, freed } = review
    this.#o.logger.info(
      { roomId, held, restored, freed, ownerId: review.room.ownerId },
      'seats reviewed',
    )
    for (const userId of freed) {
      await this.#o.discord
        .forGuild(cached.guildId)
        .removeMember(cached.channelId, userId)
        .catch((error: unknown) =>
          this.#o.logger.warn(
            { err: error, roomId, userId },
            'removing a freed player’s access failed',
          ),
        )
    }
    return review
  }

  /** Keeps the absences of the room's current players only. */
  #keepAway(roomId: string, away: Map<string, number>, room: RoomRecord): void {
    for (const userId of away.keys()) {
      if (!room.players.some((p) => p.userId === userId)) away.delete(userId)
    }
    if (away.size > 0) this.#awaySince.set(roomId, away)
    else this.#awaySince.delete(roomId)
  }

  /** Notes when the room next needs a review, and wakes sooner if that is sooner. */
  #plan(roomId: string, room: RoomRecord): void {
    const at = nextSeatDeadline(
      room,
      (userId) => this.#awaySince.get(roomId)?.get(userId),
      this.#o.timing,
    )
    if (at === null) this.#deadlines.delete(roomId)
    else this.#deadlines.set(roomId, at)
    if (at !== null && at < this.#timerAt) this.#wakeAt(at)
  }

  /** Sets the timer at the earliest deadline left. */
  #arm(): void {
    let next = Number.POSITIVE_INFINITY
    for (const at of this.#deadlines.values()) if (at < next) next = at
    if (next !== this.#timerAt) this.#wakeAt(next)
  }

  #wakeAt(at: number): void {
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = null
    this.#timerAt = at
    if (at === Number.POSITIVE_INFINITY) return
    this.#timer = this.#o.clock.setTimeout(
      () => {
        this.#timer = null
        this.#timerAt = Number.POSITIVE_INFINITY
        const now = this.#o.clock.now()
        const due = [...this.#deadlines].filter(([, deadline]) => deadline <= now).map(([id]) => id)
        for (const id of due) this.#deadlines.delete(id)
        void this.#reviewEach(due)
      },
      Math.max(0, at - this.#o.clock.now()),
    )
  }
}
