import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryEventBus } from '../../src/features/presence/memory-event-bus.server'
import { eventBusContract, roomId, testClock } from './bus-contract'

eventBusContract('memory', {
  create: async (clock) =>
    createMemoryEventBus({ now: clock.now, history: { maxFrames: 5, maxAgeMs: 10_000 } }),
})

describe('memory event bus housekeeping', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('forgets idle rooms whose history expired, but never a room with listeners', async () => {
    // The sweep runs every maxAgeMs on an interval timer: fake, so the test says when it runs.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const clock = testClock()
    const bus = createMemoryEventBus({ now: clock.now, history: { maxAgeMs: 30 } })
    const idle = roomId()
    const watched = roomId()
    const body = { type: 'room.closing', closesAt: 1 } as const
    await bus.publish(idle, body)
    await bus.publish(watched, body)
    const subscription = bus.subscribe(watched, () => {})
    clock.advance(100)
    vi.advanceTimersByTime(30)
    expect((await bus.position(idle)).seq).toBe(0)
    expect(await bus.history(idle, 1)).toMatchObject({ ok: false, reason: 'ahead' })
    expect((await bus.position(watched)).seq).toBe(1)
    subscription.unsubscribe()
    await bus.close()
  })
})
