import { describe, expect, it } from 'vitest'
import { createMemoryEventBus } from '../../src/features/presence/memory-event-bus.server'
import { eventBusContract, roomId, testClock } from './bus-contract'

eventBusContract('memory', {
  create: async (clock) =>
    createMemoryEventBus({ now: clock.now, history: { maxFrames: 5, maxAgeMs: 10_000 } }),
})

describe('memory event bus housekeeping', () => {
  it('forgets idle rooms whose history expired, but never a room with listeners', async () => {
    const clock = testClock()
    const bus = createMemoryEventBus({ now: clock.now, history: { maxAgeMs: 30 } })
    const idle = roomId()
    const watched = roomId()
    const body = { type: 'room.closing', closesAt: 1 } as const
    await bus.publish(idle, body)
    await bus.publish(watched, body)
    const subscription = bus.subscribe(watched, () => {})
    clock.advance(100)
    await new Promise((r) => setTimeout(r, 80))
    expect((await bus.position(idle)).seq).toBe(0)
    expect(await bus.history(idle, 1)).toMatchObject({ ok: false, reason: 'ahead' })
    expect((await bus.position(watched)).seq).toBe(1)
    subscription.unsubscribe()
    await bus.close()
  })
})
