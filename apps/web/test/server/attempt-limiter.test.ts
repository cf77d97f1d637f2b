import { describe, expect, it } from 'vitest'
import { MemoryAttemptLimiter } from '../../src/server/attempt-limiter'
import { clientAddress } from '../../src/server/client-address'

describe('attempt limiter (memory)', () => {
  it('allows `limit` attempts per key in a window, then refuses with the seconds left', async () => {
    let now = 1_000_000
    const limiter = new MemoryAttemptLimiter({ limit: 3, windowMs: 60_000 }, { now: () => now })
    for (let i = 0; i < 3; i++) expect(await limiter.hit('user:a')).toEqual({ ok: true })
    expect(await limiter.hit('user:a')).toEqual({ ok: false, retryAfter: 60 })
    // Another key has its own window.
    expect(await limiter.hit('user:b')).toEqual({ ok: true })
    now += 45_000
    expect(await limiter.hit('user:a')).toEqual({ ok: false, retryAfter: 15 })
    now += 15_000
    expect(await limiter.hit('user:a')).toEqual({ ok: true })
  })

  it('keeps at most maxKeys windows (memory stays bounded under a key-rotating flood)', async () => {
    const limiter = new MemoryAttemptLimiter({ limit: 1, windowMs: 60_000 }, { maxKeys: 100 })
    for (let i = 0; i < 1000; i++) await limiter.hit(`addr:10.0.${i >> 8}.${i & 255}`)
    expect(limiter.size).toBe(100)
  })
})

describe('client address', () => {
  it('is the socket peer without trusted proxies, whatever X-Forwarded-For claims', () => {
    expect(clientAddress('203.0.113.9', '198.51.100.1', 0)).toBe('203.0.113.9')
    expect(clientAddress('::ffff:203.0.113.9', null, 0)).toBe('203.0.113.9')
    expect(clientAddress(undefined, null, 0)).toBeNull()
  })

  it('behind n proxies, the n-th X-Forwarded-For entry from the right; a spoofed left part is ignored', () => {
    expect(clientAddress('127.0.0.1', '198.51.100.7', 1)).toBe('198.51.100.7')
    expect(clientAddress('127.0.0.1', '6.6.6.6, 198.51.100.7', 1)).toBe('198.51.100.7')
    expect(clientAddress('127.0.0.1', '6.6.6.6, 198.51.100.7, 10.0.0.2', 2)).toBe('198.51.100.7')
    // Fewer entries than proxies: it did not come through them, the peer is what we know.
    expect(clientAddress('127.0.0.1', null, 1)).toBe('127.0.0.1')
    expect(clientAddress('127.0.0.1', 'not-an-ip', 1)).toBeNull()
  })
})
