import { SEAT_GRACE_MS } from '@repo/discord-integration/contracts'
import type { RoomRecord } from './room-store'
import { nextHost } from './seat-rules'

/**
 * Seats held through drops, as pure rules: `reviewSeats(room, whereabouts, now)` says which
 * players dropped (their page and their voice both went away), which came back in time, and
 * whose grace ran out. The seat keeper (seat-keeper.server.ts, part of the cleanup leader's
 * sweeper) gathers the whereabouts, runs this inside `store.mutate` and performs the rest.
 *
 *   here ──(away for dropAfterMs)──▶ dropped, seat held until now + graceMs ──(grace ends)──▶ freed
 *     ▲                                   │
 *     └───────────(page or voice back)────┘   (silently: the seat was never given away)
 *
 * A seat is freed only while someone else is at the table (a player who is here): the grace is
 * there so the others need not wait for a player who is not coming back. A table everyone left
 * keeps its seats, held, and is closed by the idle cleanup (an hour with nobody in voice or on
 * the page, room-lifecycle.ts); the first player back finds the seats whose grace ended freed. A
 * freed host hands the room to the longest-seated player who is here.
 */

export interface SeatTiming {
  /** How long a dropped player keeps the seat. @defaultValue 10 min (SEAT_GRACE_MS) */
  graceMs: number
  /**
   * How long a player must be away before they count as dropped, so a page reload or a short
   * network blip (the page reconnects within seconds) never shows as a drop. @defaultValue 5 s
   */
  dropAfterMs: number
}

export const DEFAULT_SEAT_TIMING: SeatTiming = { graceMs: SEAT_GRACE_MS, dropAfterMs: 5_000 }

/** Where a player is, as the leader sees it now. */
export interface Whereabouts {
  /** The room page is open (on any node) or they are in the room's voice channel. */
  here: boolean
  /** Since when they have been away, as first noticed (ignored while `here`). */
  awaySince: number
}

export interface SeatReview {
  /** The room after the review: the same object when nothing changed; null for no room. */
  room: RoomRecord | null
  /** Players who just dropped: their seat is held from now on. */
  held: string[]
  /** Dropped players who came back in time. */
  restored: string[]
  /** Players whose grace ran out, with someone else at the table: their seat is free. */
  freed: string[]
}

export function reviewSeats(
  room: RoomRecord | null,
  whereabouts: (userId: string) => Whereabouts,
  now: number,
  timing: SeatTiming = DEFAULT_SEAT_TIMING,
): SeatReview {
  const review: SeatReview = { room, held: [], restored: [], freed: [] }
  if (!room) return review
  let changed = false
  const someoneHere = room.players.some((p) => whereabouts(p.userId).here)
  const players = room.players.flatMap((player) => {
    const where = whereabouts(player.userId)
    if (player.heldUntil !== undefined) {
      if (where.here) {
        review.restored.push(player.userId)
        changed = true
        const { heldUntil: _back, ...restored } = player
        return [restored]
      }
      if (someoneHere && now >= player.heldUntil) {
        review.freed.push(player.userId)
        changed = true
        return []
      }
      return [player]
    }
    if (!where.here && now - where.awaySince >= timing.dropAfterMs) {
      review.held.push(player.userId)
      changed = true
      return [{ ...player, heldUntil: now + timing.graceMs }]
    }
    return [player]
  })
  if (!changed) return review
  const ownerId = review.freed.includes(room.ownerId)
    ? (nextHost(players) ?? room.ownerId)
    : room.ownerId
  review.room = { ...room, players, ownerId }
  return review
}

/**
 * When the room's seats next need a review (a drop to confirm or a grace to end), epoch ms; null
 * when every player is here. `awaySince` is what the keeper noticed (undefined: here). A grace
 * that ended at an empty table is not a deadline: the next player back triggers the review.
 */
export function nextSeatDeadline(
  room: RoomRecord,
  awaySince: (userId: string) => number | undefined,
  timing: SeatTiming = DEFAULT_SEAT_TIMING,
): number | null {
  let next: number | null = null
  const someoneHere = room.players.some(
    (p) => p.heldUntil === undefined && awaySince(p.userId) === undefined,
  )
  for (const player of room.players) {
    const since = awaySince(player.userId)
    const at =
      player.heldUntil !== undefined
        ? someoneHere
          ? player.heldUntil
          : null
        : since !== undefined
          ? since + timing.dropAfterMs
          : null
    if (at !== null && (next === null || at < next)) next = at
  }
  return next
}
