import { describe, expect, it } from 'vitest'
import { TtlCache } from '../../src/features/servers/ttl-cache'

describe('TtlCache', () => {
  it('reuses a value for its time to live, then loads again; fresh always loads', async () => {
    let now = 0
    const cache = new TtlCache<string, number>(1000, 10, () => now)
    let loads = 0
    const load = async () => ++loads
    expect(await cache.get('a', load)).toBe(1)
    now = 999
    expect(await cache.get('a', load)).toBe(1)
    now = 1000
    expect(await cache.get('a', load)).toBe(2)
    expect(await cache.get('a', load, { fresh: true })).toBe(3)
    expect(await cache.get('a', load)).toBe(3)
  })

  it('shares a load on its way, and does not keep a failure', async () => {
    const cache = new TtlCache<string, number>(1000, 10, () => 0)
    let loads = 0
    let release: (value: number) => void = () => {}
    const slow = () => {
      loads++
      return new Promise<number>((resolve) => {
        release = resolve
      })
    }
    const both = Promise.all([cache.get('a', slow), cache.get('a', slow)])
    release(7)
    expect(await both).toEqual([7, 7])
    expect(loads).toBe(1)
    await expect(cache.get('b', () => Promise.reject(new Error('down')))).rejects.toThrow('down')
    expect(await cache.get('b', async () => 5)).toBe(5)
  })

  it('holds at most maxEntries, pushing out the oldest', async () => {
    const cache = new TtlCache<number, number>(60_000, 3, () => 0)
    for (let i = 0; i < 10; i++) await cache.get(i, async () => i)
    expect(cache.size).toBe(3)
    let reloaded = false
    await cache.get(0, async () => {
      reloaded = true
      return 0
    })
    expect(reloaded).toBe(true)
    expect(await cache.get(9, async () => -1)).toBe(9)
  })
})
