import { describe, expect, it } from 'vitest'
import type { GuildUsage } from '../../src/features/rooms/category-allocator.server'
import { PoolPlacement } from '../../src/features/rooms/guild-placement.server'

const POOL = ['100000000000000001', '100000000000000002', '100000000000000003']

/** Usage as the directory reports it: nothing stored yet, `free` rooms left in each guild. */
function placement(free: Record<string, number>) {
  return new PoolPlacement({
    pool: POOL,
    usage: async (guildIds) =>
      guildIds.map(
        (guildId) => ({ guildId, rooms: 0, freeRooms: free[guildId] ?? 0 }) as GuildUsage,
      ),
  })
}

describe('pool placement', () => {
  it('takes the guild with the most free rooms, ties in pool order', async () => {
    const p = placement({ [POOL[0]!]: 5, [POOL[1]!]: 9, [POOL[2]!]: 9 })
    expect(await p.choose()).toBe(POOL[1])
  })

  it('spreads creations running at once over the pool: a placed room counts until it settles', async () => {
    const p = placement({ [POOL[0]!]: 10, [POOL[1]!]: 10, [POOL[2]!]: 10 })
    const chosen = await Promise.all(Array.from({ length: 9 }, () => p.choose()))
    expect(POOL.map((g) => chosen.filter((c) => c === g).length)).toEqual([3, 3, 3])
    // Settled rooms no longer count: the usage (the directory) has them now, or they failed.
    for (const g of chosen) p.settle(g)
    expect(await p.choose()).toBe(POOL[0])
  })

  it('answers NO_CAPACITY once every room left is spoken for', async () => {
    const p = placement({ [POOL[0]!]: 1, [POOL[1]!]: 1 })
    await p.choose()
    await p.choose()
    await expect(p.choose()).rejects.toMatchObject({ code: 'NO_CAPACITY' })
  })
})
