import { describe, expect, it } from 'vitest'
import { isAppError } from '../../src/server/app-error'
import { CallerRateLimit } from '../../src/server/caller-rate-limit'

describe('CallerRateLimit', () => {
  it('allows a burst, then answers RATE_LIMITED until tokens refill', () => {
    let now = 0
    const limit = new CallerRateLimit({ perSecond: 2, burst: 3, now: () => now })
    for (let i = 0; i < 3; i++) limit.take('a')
    let thrown: unknown
    try {
      limit.take('a')
    } catch (error) {
      thrown = error
    }
    expect(isAppError(thrown, 'RATE_LIMITED')).toBe(true)
    expect((thrown as { status: number }).status).toBe(429)
    now += 500
    expect(() => limit.take('a')).not.toThrow()
  })

  it('keeps callers apart', () => {
    const limit = new CallerRateLimit({ perSecond: 1, burst: 1, now: () => 0 })
    limit.take('a')
    expect(() => limit.take('b')).not.toThrow()
    expect(() => limit.take('a')).toThrow()
  })

  it('forgets the least recently seen caller when full', () => {
    const limit = new CallerRateLimit({ perSecond: 1, burst: 1, maxCallers: 2, now: () => 0 })
    limit.take('a')
    limit.take('b')
    limit.take('c')
    expect(limit.size).toBe(2)
    // 'a' was forgotten, so it starts with a full bucket again.
    expect(() => limit.take('a')).not.toThrow()
    expect(() => limit.take('c')).toThrow()
  })
})
