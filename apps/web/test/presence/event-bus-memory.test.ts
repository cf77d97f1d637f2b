import { createMemoryEventBus } from '../../src/features/presence/memory-event-bus.server'
import { eventBusContract } from './bus-contract'

eventBusContract('memory', {
  create: async (clock) =>
    createMemoryEventBus({ now: clock.now, history: { maxFrames: 5, maxAgeMs: 10_000 } }),
})
