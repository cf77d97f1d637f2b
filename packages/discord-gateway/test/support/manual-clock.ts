import type { Clock } from '../../src/supervision/clock'

/** A clock that moves only when waited on: each wait passes at once, is recorded and adds its length. */
export function manualClock(start = 1_000_000): { clock: Clock; sleeps: number[] } {
  const sleeps: number[] = []
  let now = start
  const clock: Clock = {
    now: () => now,
    async sleep(ms, signal) {
      signal.throwIfAborted()
      sleeps.push(ms)
      now += ms
    },
  }
  return { clock, sleeps }
}
