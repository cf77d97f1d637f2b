import type { Clock } from '../../src/server/clock'

/** A clock whose time only moves when the test says so; due timers fire on advance(). */
export class ManualClock implements Clock {
  #now: number
  #timers = new Map<number, { at: number; fn: () => void }>()
  #nextId = 1

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start
  }
  now(): number {
    return this.#now
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++
    this.#timers.set(id, { at: this.#now + ms, fn })
    return id
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number)
  }
  /** Moves time forward, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, t]) => t.at <= target)
        .sort((a, b) => a[1].at - b[1].at)[0]
      if (!due) break
      this.#timers.delete(due[0])
      this.#now = Math.max(this.#now, due[1].at)
      due[1].fn()
      await new Promise((resolve) => setImmediate(resolve))
    }
    this.#now = target
  }
  get pending(): number {
    return this.#timers.size
  }
}
