import { describe, expect, it } from 'vitest'
import {
  activityDue,
  DEFAULT_TIMING,
  type LifecycleEvent,
  nextDeadline,
  transition,
} from '../../src/features/rooms/room-lifecycle'
import type { RoomRecord } from '../../src/features/rooms/room-store'
import { roomState } from '../../src/features/rooms/room-view'
import { roomRecord } from './room-fixtures'

const HOUR = 60 * 60 * 1000
const T0 = Date.UTC(2026, 0, 1)

/** A room created at T0 and the time, moved by the test. */
function world(overrides: Partial<RoomRecord> = {}) {
  let now = T0
  let room: RoomRecord | null = roomRecord({ createdAt: T0, lastActivityAt: T0, ...overrides })
  return {
    get room() {
      return room
    },
    advance(ms: number) {
      now += ms
    },
    now: () => now,
    /** Runs an event at the current time and keeps the resulting room. */
    send(event: LifecycleEvent) {
      const result = transition(room, event, now)
      room = result.room
      return result
    },
  }
}

const idle: LifecycleEvent = { type: 'idleTick' }
const seen: LifecycleEvent = { type: 'activitySeen' }

describe('room lifecycle', () => {
  it('warns 30 s before the hour of inactivity is up, then closes at closesAt and deletes the channel', () => {
    const w = world()
    w.advance(HOUR - 31_000)
    expect(w.send(idle).effects).toEqual([])
    expect(w.room?.status).toBe('open')

    w.advance(1000)
    const warned = w.send(idle)
    expect(warned.room).toMatchObject({ status: 'closing', closesAt: T0 + HOUR })
    expect(warned.effects).toEqual([
      { type: 'persist' },
      { type: 'publish', frame: { type: 'room.closing', closesAt: T0 + HOUR } },
    ])

    w.advance(29_000)
    expect(w.send(idle).effects).toEqual([])
    expect(w.room?.status).toBe('closing')

    const channelId = w.room?.channelId
    w.advance(1000)
    const closed = w.send(idle)
    expect(closed.room).toBeNull()
    expect(closed.effects).toEqual([
      { type: 'persist' },
      { type: 'deleteChannel', channelId },
      { type: 'publish', frame: { type: 'room.deleted', reason: 'inactive' } },
    ])
    // Closed is final: nothing more happens, whatever comes.
    for (const event of [idle, seen, { type: 'closeRequested' } as const]) {
      expect(w.send(event)).toEqual({ room: null, effects: [] })
    }
  })

  it('a late tick still gives the full 30 s warning', () => {
    const w = world()
    w.advance(3 * HOUR)
    const warned = w.send(idle)
    expect(warned.room?.closesAt).toBe(w.now() + 30_000)
    w.advance(29_999)
    expect(w.send(idle).effects).toEqual([])
    w.advance(1)
    expect(w.send(idle).room).toBeNull()
  })

  it('activity during the warning reopens the room and tells the browsers (room.updated)', () => {
    const w = world()
    w.advance(HOUR - 30_000)
    w.send(idle)
    w.advance(10_000)
    const reopened = w.send(seen)
    expect(reopened.room).toMatchObject({
      status: 'open',
      closesAt: null,
      lastActivityAt: w.now(),
    })
    expect(reopened.effects).toEqual([
      { type: 'persist' },
      {
        type: 'publish',
        frame: { type: 'room.updated', state: roomState(reopened.room as RoomRecord) },
      },
    ])
    expect(roomState(reopened.room as RoomRecord)).toMatchObject({
      status: 'open',
      closesAt: null,
    })
    // A fresh hour starts from the activity.
    w.advance(HOUR - 31_000)
    expect(w.send(idle).effects).toEqual([])
    w.advance(1000)
    expect(w.send(idle).room?.status).toBe('closing')
  })

  it('records an open room’s activity at most once a minute, and without telling anyone', () => {
    const w = world()
    w.advance(59_999)
    expect(activityDue(w.room as RoomRecord, w.now())).toBe(false)
    const early = w.send(seen)
    expect(early.effects).toEqual([])
    expect(early.room?.lastActivityAt).toBe(T0)
    w.advance(1)
    expect(activityDue(w.room as RoomRecord, w.now())).toBe(true)
    const recorded = w.send(seen)
    expect(recorded.effects).toEqual([{ type: 'persist' }])
    expect(recorded.room?.lastActivityAt).toBe(T0 + 60_000)
    // A closing room's activity is always due: it cancels the warning.
    expect(activityDue({ ...(w.room as RoomRecord), status: 'closing' }, w.now())).toBe(true)
  })

  it('leaves the room object as it is when nothing happens', () => {
    const w = world()
    const before = w.room
    expect(w.send(idle).room).toBe(before)
    expect(w.send(seen).room).toBe(before)
  })

  it('closes on request from open or closing, deleting the channel (reason closed)', () => {
    for (const status of ['open', 'closing'] as const) {
      const w = world({ status, closesAt: status === 'closing' ? T0 + 30_000 : null })
      const channelId = w.room?.channelId
      expect(w.send({ type: 'closeRequested' })).toEqual({
        room: null,
        effects: [
          { type: 'persist' },
          { type: 'deleteChannel', channelId },
          { type: 'publish', frame: { type: 'room.deleted', reason: 'closed' } },
        ],
      })
    }
  })

  it('a room whose channel is gone closes without deleting a channel (reason channel_gone)', () => {
    const w = world()
    expect(w.send({ type: 'channelGone' })).toEqual({
      room: null,
      effects: [
        { type: 'persist' },
        { type: 'publish', frame: { type: 'room.deleted', reason: 'channel_gone' } },
      ],
    })
  })

  it('an unknown room has no transitions (closing is idempotent)', () => {
    for (const type of ['activitySeen', 'idleTick', 'closeRequested', 'channelGone'] as const) {
      expect(transition(null, { type }, T0)).toEqual({ room: null, effects: [] })
    }
  })

  it('a closing room without closesAt is left alone (never closed on missing data)', () => {
    const w = world({ status: 'closing', closesAt: null })
    w.advance(5 * HOUR)
    expect(w.send(idle)).toEqual({ room: w.room, effects: [] })
  })

  it('the next deadline is the warning while open, closesAt while closing', () => {
    const room = roomRecord({ lastActivityAt: T0 })
    expect(nextDeadline(room)).toBe(T0 + HOUR - 30_000)
    expect(nextDeadline({ ...room, status: 'closing', closesAt: T0 + 5 })).toBe(T0 + 5)
  })

  it('takes its timings as a parameter', () => {
    const timing = { ...DEFAULT_TIMING, idleMs: 10_000, warningMs: 2_000 }
    const room = roomRecord({ lastActivityAt: T0 })
    expect(transition(room, idle, T0 + 7_999, timing).effects).toEqual([])
    expect(transition(room, idle, T0 + 8_000, timing).room).toMatchObject({
      status: 'closing',
      closesAt: T0 + 10_000,
    })
    expect(nextDeadline(room, timing)).toBe(T0 + 8_000)
  })
})
