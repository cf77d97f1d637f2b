import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BusFrame, EventBus } from '../../src/features/presence/event-bus'
import type { RoomFrameBody } from '../../src/server/ports'

/** A controllable clock shared by a bus and its test. */
export interface TestClock {
  now: () => number
  advance(ms: number): void
}
export function testClock(start = 1_800_000_000_000): TestClock {
  let t = start
  return { now: () => t, advance: (ms) => (t += ms) }
}

/** What each implementation provides to the shared contract suite. */
export interface BusFactory {
  /** A fresh bus with history limits 5 frames / 10 s, on `clock`. */
  create(clock: TestClock): Promise<EventBus>
}

let roomCounter = 0
/** A unique valid room id. */
export function roomId(): string {
  roomCounter++
  return `room_${process.pid}_${Date.now().toString(36)}_${roomCounter}`.slice(0, 32)
}

const leftBody = (n: number): RoomFrameBody => ({
  type: 'voice.left',
  userId: `1000000000000000${String(n).padStart(2, '0')}`,
  channelId: '200000000000000001',
  reason: 'left',
  receivedAt: 1,
})

/** Waits until `predicate` holds (polling), or fails after `ms`. */
export async function until(predicate: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition')
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** The behaviour every EventBus implementation must have. */
export function eventBusContract(name: string, factory: BusFactory) {
  describe(`event bus contract: ${name}`, () => {
    let clock: TestClock
    let bus: EventBus
    beforeEach(async () => {
      clock = testClock()
      bus = await factory.create(clock)
    })
    afterEach(async () => {
      await bus.close()
    })

    it('stamps v, room, a per-room monotonic seq and ts, and serialises the same frame', async () => {
      const a = roomId()
      const b = roomId()
      const first = await bus.publish(a, leftBody(1))
      clock.advance(5)
      const second = await bus.publish(a, leftBody(2))
      const other = await bus.publish(b, leftBody(3))
      expect(first.frame).toMatchObject({ v: 1, room: a, seq: 1, ts: clock.now() - 5 })
      expect(second.frame.seq).toBe(2)
      expect(other.frame.seq).toBe(1)
      expect(JSON.parse(second.text)).toEqual(second.frame)
      expect(await bus.position(a)).toMatchObject({ seq: 2 })
      expect(await bus.position(roomId())).toMatchObject({ seq: 0 })
    })

    it('gives concurrent publishes on one room distinct consecutive seqs', async () => {
      const a = roomId()
      const frames = await Promise.all(
        Array.from({ length: 20 }, (_, i) => bus.publish(a, leftBody(i))),
      )
      expect(frames.map((f) => f.frame.seq).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      )
    })

    it('delivers live frames of a room, in order, only to that room, until unsubscribed', async () => {
      const a = roomId()
      const b = roomId()
      const got: BusFrame[] = []
      const subscription = bus.subscribe(a, (f) => got.push(f))
      await subscription.ready
      await bus.publish(a, leftBody(1))
      await bus.publish(b, leftBody(2))
      await bus.publish(a, leftBody(3))
      await until(() => got.length >= 2)
      expect(got.map((f) => [f.frame.room, f.frame.seq])).toEqual([
        [a, 1],
        [a, 2],
      ])
      subscription.unsubscribe()
      await bus.publish(a, leftBody(4))
      // A later subscriber's first frame marks the point by which frame 4 would have reached the
      // old listener too (live delivery keeps per-room order).
      const later: number[] = []
      const marker = bus.subscribe(a, (f) => later.push(f.frame.seq))
      await marker.ready
      await bus.publish(a, leftBody(5))
      await until(() => later.length > 0)
      marker.unsubscribe()
      expect(got).toHaveLength(2)
    })

    it('replays exactly the frames after since while history holds them', async () => {
      const a = roomId()
      for (let i = 1; i <= 4; i++) await bus.publish(a, leftBody(i))
      const { epoch } = await bus.position(a)
      const result = await bus.history(a, 2, epoch)
      expect(result.ok).toBe(true)
      if (!result.ok) return
      expect(result.frames.map((f) => f.seq)).toEqual([3, 4])
      // A replayed frame is its text, with the seq and type read from that same text.
      for (const f of result.frames) {
        expect(JSON.parse(f.text)).toMatchObject({ room: a, seq: f.seq, type: f.type })
      }
      expect(result.position).toBe(4)
      const upToDate = await bus.history(a, 4, epoch)
      expect(upToDate).toMatchObject({ ok: true, frames: [] })
      const fromStart = await bus.history(a, 0, epoch)
      expect(fromStart.ok && fromStart.frames.map((f) => f.seq)).toEqual([1, 2, 3, 4])
    })

    it('reports a gap when more frames were missed than history keeps', async () => {
      const a = roomId()
      for (let i = 1; i <= 8; i++) await bus.publish(a, leftBody(i))
      // The last 5 (4..8) are kept: since=3 is still complete, since=2 is not.
      expect(await bus.history(a, 3)).toMatchObject({ ok: true })
      expect(await bus.history(a, 2)).toMatchObject({ ok: false, reason: 'gap', position: 8 })
    })

    it('reports a gap when the missed frames are older than the history window', async () => {
      const a = roomId()
      await bus.publish(a, leftBody(1))
      clock.advance(8_000)
      await bus.publish(a, leftBody(2))
      clock.advance(3_000)
      // frame 1 is 11 s old (window 10 s), frame 2 is 3 s old
      expect(await bus.history(a, 1)).toMatchObject({ ok: true })
      expect(await bus.history(a, 0)).toMatchObject({ ok: false, reason: 'gap' })
    })

    it('refuses a since ahead of the stream and a foreign epoch', async () => {
      const a = roomId()
      await bus.publish(a, leftBody(1))
      expect(await bus.history(a, 5)).toMatchObject({ ok: false, reason: 'ahead', position: 1 })
      expect(await bus.history(a, 0, 'another-life')).toMatchObject({ ok: false, reason: 'epoch' })
    })

    it('keeps the epoch stable for a room between calls', async () => {
      const a = roomId()
      const p1 = await bus.position(a)
      await bus.publish(a, leftBody(1))
      const p2 = await bus.position(a)
      expect(p2.epoch).toBe(p1.epoch)
      expect(p2.seq).toBe(1)
    })

    it('rejects publishing after close', async () => {
      await bus.close()
      await expect(bus.publish(roomId(), leftBody(1))).rejects.toMatchObject({ code: 'BUS_CLOSED' })
    })
  })
}
