import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SilentSocketWatchdog } from '../src/gateway/watchdog'
import { systemClock } from '../src/supervision/clock'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

function watchdog(intervals = 3, defaultHeartbeatMs = 41_250) {
  const fired: { silentForMs: number; limitMs: number }[] = []
  const dog = new SilentSocketWatchdog({
    clock: systemClock, // Date.now under fake timers
    intervals,
    defaultHeartbeatMs,
    onSilent: (silentForMs, limitMs) => fired.push({ silentForMs, limitMs }),
  })
  return { dog, fired }
}

/** The library's HeartbeatComplete for a beat sent `ms` after the previous instant. */
function beatAfter(dog: SilentSocketWatchdog, ms: number): void {
  vi.advanceTimersByTime(ms)
  dog.onHeartbeatAck(Date.now())
}

describe('heartbeat interval, measured from acknowledged beats', () => {
  it('is the gap between two acknowledged beats on one socket (null before)', () => {
    const { dog } = watchdog()
    dog.onHello()
    expect(dog.heartbeatIntervalMs).toBeNull()
    expect(dog.limitMs).toBe(3 * 41_250) // the default until measured
    beatAfter(dog, 120) // the first beat comes after a random part of the interval
    expect(dog.heartbeatIntervalMs).toBeNull()
    beatAfter(dog, 300)
    expect(dog.heartbeatIntervalMs).toBe(300)
    expect(dog.limitMs).toBe(900)
  })

  it('a beat Discord asks for (op 1) between two regular ones does not shorten it', () => {
    const { dog } = watchdog()
    dog.onHello()
    beatAfter(dog, 50)
    beatAfter(dog, 300)
    beatAfter(dog, 10) // requested
    beatAfter(dog, 290)
    expect(dog.heartbeatIntervalMs).toBe(300)
  })

  it('a new socket is measured afresh; until its second beat the last value stands', () => {
    const { dog } = watchdog()
    dog.onHello()
    beatAfter(dog, 10)
    beatAfter(dog, 500)
    dog.onHello()
    beatAfter(dog, 3_000) // first beat of the new socket: no gap across sockets
    expect(dog.heartbeatIntervalMs).toBe(500)
    beatAfter(dog, 250)
    expect(dog.heartbeatIntervalMs).toBe(250)
  })
})

describe('silent-socket watchdog', () => {
  it('fires once after `intervals` measured intervals without a dispatch or ACK', () => {
    const { dog, fired } = watchdog(3)
    dog.start()
    dog.onHello()
    beatAfter(dog, 100)
    beatAfter(dog, 300) // limit now 3 x 300 ms
    vi.advanceTimersByTime(850)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(200)
    expect(fired).toHaveLength(1)
    expect(fired[0]?.limitMs).toBe(900)
    expect(fired[0]?.silentForMs).toBeGreaterThan(900)
    vi.advanceTimersByTime(10_000)
    expect(fired).toHaveLength(1) // once per socket
    dog.onHello() // the next socket is watched again
    vi.advanceTimersByTime(1_000)
    expect(fired).toHaveLength(2)
    dog.stop()
  })

  it('dispatches keep it quiet', () => {
    const { dog, fired } = watchdog(1)
    dog.start()
    dog.onHello()
    beatAfter(dog, 100)
    beatAfter(dog, 300)
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(250)
      dog.onActivity()
    }
    expect(fired).toEqual([])
    dog.stop()
  })

  it('watches nothing before HELLO, after disarm or after stop', () => {
    const { dog, fired } = watchdog(1, 200)
    dog.start()
    vi.advanceTimersByTime(5_000)
    dog.onHello()
    dog.disarm()
    vi.advanceTimersByTime(5_000)
    expect(fired).toEqual([])
    dog.onHello()
    dog.stop()
    vi.advanceTimersByTime(5_000)
    expect(fired).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })
})
