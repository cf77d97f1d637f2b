import { ROOM_CLOSING_WARNING_MS, ROOM_IDLE_MS } from '@repo/discord-integration/contracts'
import type { RoomFrameBody } from '../../server/ports'
import type { RoomRecord } from './room-store'
import { roomState } from './room-view'

/**
 * A room's life as a pure state machine: `transition(room, event, now)` returns the room after the
 * event and the effects to perform. Every open → closing → closed rule is here; the runner
 * (lifecycle-runner.server.ts) applies a transition atomically in the store and performs its
 * effects. Pure, so a store may run it again on a conflicting write.
 *
 *   open ──(idle for idleMs − warningMs)──▶ closing ──(closesAt passes)──▶ closed
 *     ▲                                        │
 *     └──────────────(activity seen)───────────┘
 *   any ──(close requested, channel gone, bot removed from the guild)──▶ closed
 *
 * A closed room leaves the store (it is `null` after the transition) with its Discord channel;
 * `room.deleted` tells its browsers why.
 */

/** Why a room was closed (the reason of room.deleted). */
export type CloseReason = 'closed' | 'inactive' | 'channel_gone' | 'guild_removed'

export type LifecycleEvent =
  /** Someone is in the room's voice channel or viewing its page. */
  | { type: 'activitySeen' }
  /** Nobody was seen in the room: the cleanup leader checks its deadlines. */
  | { type: 'idleTick' }
  /** The owner closed the room, or its last player left. */
  | { type: 'closeRequested' }
  /** The room's Discord channel no longer exists. */
  | { type: 'channelGone' }
  /** The bot was removed from the room's guild (its channel is out of reach). */
  | { type: 'guildRemoved' }

/** The room frames the lifecycle publishes. */
export type LifecycleFrame = Extract<
  RoomFrameBody,
  { type: 'room.closing' | 'room.updated' | 'room.deleted' }
>

export type LifecycleEffect =
  /** Write the room as the transition returns it (remove it from the store when that is null). */
  | { type: 'persist' }
  /** Delete the room's voice channel (its member permission overwrites go with it). */
  | { type: 'deleteChannel'; channelId: string }
  /** Tell the room's browsers. */
  | { type: 'publish'; frame: LifecycleFrame }

export interface LifecycleTransition {
  /** The room after the event (the same object when nothing changed); null when it is closed or unknown. */
  room: RoomRecord | null
  effects: LifecycleEffect[]
}

export interface LifecycleTiming {
  /** Inactivity after which a room is closed. @defaultValue 1 h */
  idleMs: number
  /** How long before closing the players are warned. @defaultValue 30 s */
  warningMs: number
  /** An open room's activity is written at most this often (a closing room's at once). @defaultValue 60 s */
  activityWriteEveryMs: number
}

export const DEFAULT_TIMING: LifecycleTiming = {
  idleMs: ROOM_IDLE_MS,
  warningMs: ROOM_CLOSING_WARNING_MS,
  activityWriteEveryMs: 60_000,
}

const NOTHING: LifecycleEffect[] = []

export function transition(
  room: RoomRecord | null,
  event: LifecycleEvent,
  now: number,
  timing: LifecycleTiming = DEFAULT_TIMING,
): LifecycleTransition {
  if (!room) return { room: null, effects: NOTHING }
  switch (event.type) {
    case 'activitySeen': {
      if (!activityDue(room, now, timing)) return { room, effects: NOTHING }
      const next: RoomRecord = { ...room, lastActivityAt: now, status: 'open', closesAt: null }
      // Activity during the warning cancels it.
      if (room.status === 'closing') {
        return {
          room: next,
          effects: [
            { type: 'persist' },
            { type: 'publish', frame: { type: 'room.updated', state: roomState(next) } },
          ],
        }
      }
      return { room: next, effects: [{ type: 'persist' }] }
    }
    case 'idleTick': {
      if (room.status === 'closing') {
        if (room.closesAt === null || now < room.closesAt) return { room, effects: NOTHING }
        return close(room, 'inactive')
      }
      const deadline = room.lastActivityAt + timing.idleMs
      if (room.status !== 'open' || now < deadline - timing.warningMs) {
        return { room, effects: NOTHING }
      }
      // Never less than the full warning, even when the tick comes late.
      const closesAt = Math.max(deadline, now + timing.warningMs)
      return {
        room: { ...room, status: 'closing', closesAt },
        effects: [
          { type: 'persist' },
          { type: 'publish', frame: { type: 'room.closing', closesAt } },
        ],
      }
    }
    case 'closeRequested':
      return close(room, 'closed')
    case 'channelGone':
      return close(room, 'channel_gone')
    case 'guildRemoved':
      return close(room, 'guild_removed')
  }
}

function close(room: RoomRecord, reason: CloseReason): LifecycleTransition {
  const effects: LifecycleEffect[] = [{ type: 'persist' }]
  // A channel that is gone, or in a guild the bot was removed from, is not ours to delete.
  if (reason !== 'channel_gone' && reason !== 'guild_removed')
    effects.push({ type: 'deleteChannel', channelId: room.channelId })
  effects.push({ type: 'publish', frame: { type: 'room.deleted', reason } })
  return { room: null, effects }
}

/**
 * Whether activity seen now changes the room: always while it is closing (to cancel the
 * warning), at most once per `activityWriteEveryMs` while it is open. Cheap enough for the
 * voice event path, which asks it before queueing a write.
 */
export function activityDue(
  room: RoomRecord,
  now: number,
  timing: LifecycleTiming = DEFAULT_TIMING,
): boolean {
  return room.status !== 'open' || now - room.lastActivityAt >= timing.activityWriteEveryMs
}

/** When an idle room next needs an `idleTick` (its warning, or its closing), epoch ms. */
export function nextDeadline(room: RoomRecord, timing: LifecycleTiming = DEFAULT_TIMING): number {
  return room.status === 'closing' && room.closesAt !== null
    ? room.closesAt
    : room.lastActivityAt + timing.idleMs - timing.warningMs
}
