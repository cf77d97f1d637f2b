import { describe, expect, it } from 'vitest'
import type { RoomRecord } from '../../src/features/rooms/room-store'
import {
  nextSeatDeadline,
  reviewSeats,
  type Whereabouts,
} from '../../src/features/rooms/seat-holds'
import { ManualClock } from '../support/manual-clock'
import { roomRecord } from './room-fixtures'
import { player } from './room-store-contract'

const TIMING = { graceMs: 10 * 60_000, dropAfterMs: 5_000 }
const [P1, P2, P3] = [player(1, 1), player(2, 2), player(3, 3)]

/**
 * A room under a controllable clock, with who is here set by the test and the "away since" the
 * keeper would note (the first review that saw them gone), reviewed the way the keeper does:
 * the pure rules on the latest room, at the clock's time.
 */
function table(players = [P1, P2, P3]) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 20))
  const here = new Set(players.map((p) => p.userId))
  const awaySince = new Map<string, number>()
  let room: RoomRecord = roomRecord({ players, ownerId: players[0]?.userId ?? '' })
  const where = (userId: string): Whereabouts => {
    if (here.has(userId)) awaySince.delete(userId)
    else if (!awaySince.has(userId)) awaySince.set(userId, clock.now())
    return { here: here.has(userId), awaySince: awaySince.get(userId) ?? clock.now() }
  }
  return {
    clock,
    get room() {
      return room
    },
    leave: (userId: string) => here.delete(userId),
    come: (userId: string) => here.add(userId),
    review() {
      const result = reviewSeats(room, where, clock.now(), TIMING)
      if (result.room) room = result.room
      return result
    },
    deadline: () => nextSeatDeadline(room, (id) => awaySince.get(id), TIMING),
    heldUntil: (userId: string) => room.players.find((p) => p.userId === userId)?.heldUntil,
  }
}

describe('seats held through drops (controllable clock)', () => {
  it('a short absence (a reload, a network blip) is not a drop', async () => {
    const t = table()
    t.leave(P2.userId)
    expect(t.review().held).toEqual([])
    await t.clock.advance(4_999)
    expect(t.review().held).toEqual([])
    t.come(P2.userId)
    await t.clock.advance(10_000)
    expect(t.review()).toMatchObject({ held: [], freed: [], restored: [] })
    expect(t.heldUntil(P2.userId)).toBeUndefined()
  })

  it('away past dropAfterMs: dropped, the seat held for the grace period, and it says until when', async () => {
    const t = table()
    t.leave(P2.userId)
    t.review()
    expect(t.deadline()).toBe(t.clock.now() + 5_000)
    await t.clock.advance(5_000)
    const review = t.review()
    expect(review.held).toEqual([P2.userId])
    expect(t.heldUntil(P2.userId)).toBe(t.clock.now() + 10 * 60_000)
    expect(t.room.players.map((p) => p.userId)).toEqual([P1.userId, P2.userId, P3.userId])
    expect(t.deadline()).toBe(t.heldUntil(P2.userId))
    // Reviewing again changes nothing: the same room object (a store writes nothing).
    const before = t.room
    await t.clock.advance(60_000)
    expect(t.review().room).toBe(before)
  })

  it('back within the grace (page or voice): restored silently, same seat, nothing freed', async () => {
    const t = table()
    t.leave(P2.userId)
    t.review()
    await t.clock.advance(5_000)
    t.review()
    await t.clock.advance(9 * 60_000 + 59_000)
    t.come(P2.userId)
    const review = t.review()
    expect(review).toMatchObject({ restored: [P2.userId], freed: [], held: [] })
    expect(t.room.players[1]).toEqual(P2)
    expect(t.deadline()).toBeNull()
  })

  it('past the grace: the seat is freed, the others keep theirs in order', async () => {
    const t = table()
    t.leave(P2.userId)
    t.review()
    await t.clock.advance(5_000)
    t.review()
    await t.clock.advance(10 * 60_000 - 1)
    expect(t.review().freed).toEqual([])
    await t.clock.advance(1)
    expect(t.review().freed).toEqual([P2.userId])
    expect(t.room.players.map((p) => p.userId)).toEqual([P1.userId, P3.userId])
    expect(t.room.ownerId).toBe(P1.userId)
  })

  it('the host’s held seat expiring hands the room to the longest-seated player who is here', async () => {
    const t = table()
    t.leave(P1.userId)
    t.leave(P2.userId)
    t.review()
    await t.clock.advance(5_000)
    expect(t.review().held).toEqual([P1.userId, P2.userId])
    await t.clock.advance(10 * 60_000)
    const review = t.review()
    expect(review.freed).toEqual([P1.userId, P2.userId])
    expect(t.room.ownerId).toBe(P3.userId)
  })

  it('a dropped longest-seated player is passed over for one who is here', async () => {
    const t = table()
    t.leave(P2.userId)
    t.review()
    await t.clock.advance(5_000)
    t.review() // P2 dropped
    t.leave(P1.userId)
    t.review()
    await t.clock.advance(5_000)
    t.review() // P1 (host) dropped
    await t.clock.advance(10 * 60_000)
    // Both expire on this review: P3 is the only one here.
    t.review()
    expect(t.room.ownerId).toBe(P3.userId)
  })

  it('at a table everyone left, no seat is freed: the first player back finds the ended graces freed', async () => {
    const t = table()
    for (const p of [P1, P2, P3]) t.leave(p.userId)
    t.review()
    await t.clock.advance(5_000)
    expect(t.review().held).toEqual([P1.userId, P2.userId, P3.userId])
    expect(t.deadline()).toBeNull()
    await t.clock.advance(30 * 60_000)
    expect(t.review().freed).toEqual([])
    expect(t.room.players).toHaveLength(3)
    t.come(P3.userId)
    const review = t.review()
    expect(review).toMatchObject({ restored: [P3.userId], freed: [P1.userId, P2.userId] })
    expect(t.room.players.map((p) => p.userId)).toEqual([P3.userId])
    expect(t.room.ownerId).toBe(P3.userId)
  })

  it('no room, nothing to review', () => {
    expect(reviewSeats(null, () => ({ here: false, awaySince: 0 }), 1, TIMING)).toMatchObject({
      room: null,
      freed: [],
    })
  })
})
