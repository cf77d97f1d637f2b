import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Logger } from 'pino'
import type { Clock } from '../../server/clock'
import type { RoomEvents, VoicePresence } from '../../server/ports'
import type { LifecycleRunner } from './lifecycle-runner.server'
import type { ProfileSync } from './profile-sync.server'
import type { CachedRoomDirectory } from './room-directory.server'
import { activityDue, type LifecycleEvent, nextDeadline, transition } from './room-lifecycle'
import type { RoomRecord, RoomStore } from './room-store'
import type { SeatKeeper, SeatReport } from './seat-keeper.server'

/**
 * Rooms a cleanup pass looks at, and activity writes it starts, between turns of the event loop.
 * One synchronous pass over 2,500 busy rooms, then their 2,500 touches, held the loop for
 * ~25 ms and more (a CPU profile of the 10,000-socket benchmark), and every voice event
 * arriving meanwhile waited for it.
 */
export const SWEEP_BATCH = 256

/** What one cleanup pass did, by room id (and, for seats, by user id). */
export interface SweepReport {
  warned: string[]
  closed: string[]
  reopened: string[]
  /** What the seat keeper did, when it did anything. */
  seats?: SeatReport
}

export interface RoomSweeperOptions {
  store: RoomStore
  directory: CachedRoomDirectory
  lifecycle: LifecycleRunner
  voice: VoicePresence
  events: RoomEvents
  clock: Clock
  logger: Logger
  /** Whether voice presence is known (see RoomServiceOptions.voiceReady). */
  voiceReady: () => boolean
  /** Whether this process leads the cleanup (see RoomServiceOptions.isLeader). */
  isLeader: () => boolean
  /** Voice activity is written to the store in batches, at most this long after it happened. */
  activityFlushMs: number
  /** Holds seats through drops (the leader's); none without a ViewerPresence to tell who is here. */
  seats: SeatKeeper | null
  /** Keeps players' and spectators' names and avatars current. */
  profiles: ProfileSync
}

const IDLE_TICK: LifecycleEvent = { type: 'idleTick' }
const ACTIVITY_SEEN: LifecycleEvent = { type: 'activitySeen' }

/**
 * Runs the room lifecycle over the cached rooms: records the activity it sees (voice events in
 * batches, viewers and voice members on each pass) and, on the cleanup leader, warns and closes
 * idle rooms and holds, restores and frees dropped players' seats (its SeatKeeper: the one place
 * that expires held seats). A room is active while someone is in its voice channel or viewing its
 * page. It also hands profile changes to the ProfileSync.
 */
export class RoomSweeper {
  readonly #o: RoomSweeperOptions
  #unsubscribeVoice: (() => void) | null = null
  /** Rooms with voice activity not yet written to the store, and the timer that writes them. */
  readonly #pendingActivity = new Set<string>()
  #activityTimer: unknown = null

  constructor(options: RoomSweeperOptions) {
    this.#o = options
  }

  /** Starts counting voice events in the rooms' channels as activity, and watching seats. */
  start(): void {
    this.#o.seats?.start()
    this.#unsubscribeVoice ??= this.#o.voice.subscribe((event) => {
      if (event.type === 'profile.updated') {
        void this.#o.profiles.apply(event)
        return
      }
      const roomId = this.#o.directory.roomForChannel(event.channelId)
      if (!roomId) return
      this.#noteActivity(roomId)
      // A player arriving in or leaving the room's voice may end or start a drop. (Mute and
      // camera changes, most of the events, cannot: one comparison and done.)
      if (event.type !== 'voice.updated' && this.#o.seats) this.#noteSeat(roomId, event.userId)
    })
  }

  stop(): void {
    this.#o.seats?.stop()
    this.#unsubscribeVoice?.()
    this.#unsubscribeVoice = null
    if (this.#activityTimer !== null) this.#o.clock.clearTimeout(this.#activityTimer)
    this.#activityTimer = null
  }

  /**
   * Voice activity in a room. A closing room is reopened at once; otherwise the activity is
   * written with the others of the next activityFlushMs, so thousands of busy rooms cost one
   * store write every few seconds, not one per room. Runs on every voice event: map lookups and
   * a comparison, nothing more, until a write is due.
   */
  #noteActivity(roomId: string): void {
    const cached = this.#o.directory.get(roomId)
    if (!cached) return
    if (cached.status === 'closing') {
      void this.#touchAll([roomId])
      return
    }
    if (!activityDue(cached, this.#o.clock.now(), this.#o.lifecycle.timing)) return
    this.#pendingActivity.add(roomId)
    this.#activityTimer ??= this.#o.clock.setTimeout(() => {
      this.#activityTimer = null
      const rooms = [...this.#pendingActivity]
      this.#pendingActivity.clear()
      void this.#touchAll(rooms)
    }, this.#o.activityFlushMs)
  }

  #noteSeat(roomId: string, userId: string): void {
    if (this.#o.directory.get(roomId)?.players.some((p) => p.userId === userId)) {
      this.#o.seats?.note(roomId)
    }
  }

  /**
   * One cleanup pass. After idleMs - warningMs of inactivity a room's players are warned
   * (room.closing); after idleMs it is closed. Activity during the warning cancels it
   * (room.updated). The rules are room-lifecycle.ts's; this decides which rooms to ask.
   */
  async sweep(): Promise<SweepReport> {
    if (this.#o.store.watch) await this.#o.directory.refresh()
    const now = this.#o.clock.now()
    const leader = this.#o.isLeader()
    // Once per pass: the gateway feed answers with a copy of its whole status.
    const voiceReady = this.#o.voiceReady()
    const report: SweepReport = { warned: [], closed: [], reopened: [] }
    const active: string[] = []
    const ids = this.#o.directory.ids()
    for (let i = 0; i < ids.length; i++) {
      if (i > 0 && i % SWEEP_BATCH === 0) await nextTurn()
      // The record as it is now: it may have changed or gone during a turn.
      const room = this.#o.directory.get(ids[i] ?? '')
      if (!room) continue
      try {
        // Every node records the activity it sees (its viewers, its voice mirror) in the
        // store; only the leader acts on inactivity, reading that shared truth.
        if (this.#isActive(room, leader, voiceReady)) {
          if (room.status === 'closing') report.reopened.push(room.id)
          active.push(room.id)
          continue
        }
        // Only when the cached copy says a deadline passed; then the store's latest copy decides.
        if (!leader || !this.#due(room, now)) continue
        const { before, room: after } = await this.#o.lifecycle.apply(room.id, IDLE_TICK)
        if (before && !after) report.closed.push(room.id)
        else if (before?.status === 'open' && after?.status === 'closing')
          report.warned.push(room.id)
      } catch (error) {
        this.#o.logger.warn({ err: error, roomId: room.id }, 'sweep failed for room')
      }
    }
    // Together, so a file store writes its file once for all of them, not once per room.
    await this.#touchAll(active)
    if (leader && this.#o.seats) {
      const seats = await this.#o.seats.reviewAll(this.#o.directory.ids())
      if (Object.values(seats).some((ids) => ids.length > 0)) report.seats = seats
    }
    return report
  }

  /**
   * When the next sweep has something to do (a warning, a closing, a held seat's grace ending),
   * epoch ms; null if no rooms.
   */
  nextDeadline(): number | null {
    if (!this.#o.isLeader()) return null
    let next: number | null = null
    for (const room of this.#o.directory.rooms()) {
      const at = nextDeadline(room, this.#o.lifecycle.timing)
      next = next === null ? at : Math.min(next, at)
    }
    const seat = this.#o.seats?.nextDeadline(this.#o.directory.rooms()) ?? null
    return seat !== null && (next === null || seat < next) ? seat : next
  }

  #due(room: RoomRecord, now: number): boolean {
    return transition(room, IDLE_TICK, now, this.#o.lifecycle.timing).effects.length > 0
  }

  /**
   * Someone is in the room's voice channel or viewing its page (on this node). While voice
   * presence is unknown (`voiceReady` false, read once per pass), `assumeActive` decides (the
   * leader never closes on missing data; a follower only reports what it actually sees).
   */
  #isActive(room: RoomRecord, assumeActive: boolean, voiceReady: boolean): boolean {
    if (!voiceReady) return assumeActive || this.#o.events.viewerCount(room.id) > 0
    return (
      this.#o.voice.channelMembers(room.channelId).length > 0 ||
      this.#o.events.viewerCount(room.id) > 0
    )
  }

  /**
   * Touches rooms concurrently, SWEEP_BATCH at a time per turn of the event loop (a pass marks
   * every busy room at once: 2,500 touches started in one turn held the loop for tens of ms).
   * The batches are not awaited one by one, so a file store still writes them together. A
   * failure is logged per room.
   */
  async #touchAll(roomIds: readonly string[]): Promise<void> {
    const touches: Promise<void>[] = []
    for (let i = 0; i < roomIds.length; i += SWEEP_BATCH) {
      if (i > 0) await nextTurn()
      for (const roomId of roomIds.slice(i, i + SWEEP_BATCH)) {
        touches.push(
          this.#touch(roomId).catch((error: unknown) =>
            this.#o.logger.warn({ err: error, roomId }, 'recording room activity failed'),
          ),
        )
      }
    }
    await Promise.all(touches)
  }

  /** Records activity; cancels a pending closing warning. */
  async #touch(roomId: string): Promise<void> {
    const cached = this.#o.directory.get(roomId)
    if (cached && !activityDue(cached, this.#o.clock.now(), this.#o.lifecycle.timing)) return
    await this.#o.lifecycle.apply(roomId, ACTIVITY_SEEN)
  }
}
