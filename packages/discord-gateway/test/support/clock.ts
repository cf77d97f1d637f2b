import type { Clock } from '../../src/supervision/clock'
import { systemClock } from '../../src/supervision/clock'

/**
 * Injected time for the connection: every wait it asks for passes at once and is recorded, and the
 * clock's time jumps ahead by the wait (so spacing computed from `now()` sees the time as spent).
 * `onSleep` runs inside each wait, with its length and its 1-based index: the test's chance to
 * change the world "during" the wait.
 */
export function steppingClock(onSleep: (ms: number, index: number) => void = () => {}): {
  clock: Clock
  sleeps: number[]
} {
  const sleeps: number[] = []
  let skew = 0
  const clock: Clock = {
    now: () => Date.now() + skew,
    async sleep(ms, signal) {
      signal.throwIfAborted()
      sleeps.push(ms)
      skew += ms
      onSleep(ms, sleeps.length)
      await new Promise<void>((resolve) => setImmediate(resolve))
      signal.throwIfAborted()
    },
  }
  return { clock, sleeps }
}

/** The system clock, with every wait the connection asks for recorded (the waits are real). */
export function recordingClock(): { clock: Clock; sleeps: number[] } {
  const sleeps: number[] = []
  const clock: Clock = {
    now: systemClock.now,
    sleep(ms, signal) {
      sleeps.push(ms)
      return systemClock.sleep(ms, signal)
    },
  }
  return { clock, sleeps }
}
