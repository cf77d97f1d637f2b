import type { Player } from '@repo/discord-integration/contracts'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RoomRecord, RoomStore } from '../../src/features/rooms/room-store'
import { removePlayer, takeSeat } from '../../src/features/rooms/seat-rules'
import { roomRecord } from './room-fixtures'

const GUILD_A = '100000000000000001'
const GUILD_B = '100000000000000002'

/** One store under test, with what the contract needs around it. */
export interface StoreUnderTest {
  store: RoomStore
  /**
   * `count` handles on the same data that write concurrently, as the app's writers do: other
   * connections (other processes) for a shared store, the one instance for an in-process store.
   */
  handles(count: number): Promise<RoomStore[]>
  /** A new handle on the same data once `store` is closed: a restart. */
  reopen(): Promise<RoomStore>
  /** Releases connections and files. */
  dispose(): Promise<void>
  /** Resolves once `store.watch`'s subscription is in place (stores that watch). */
  watching?(): Promise<void>
}

/** What each implementation provides to the shared contract suite. */
export interface RoomStoreFactory {
  /** A fresh, empty store. */
  create(): Promise<StoreUnderTest>
  /** Whether the store offers `watch` (change notifications across processes). */
  watches: boolean
}

/** A seated player with a snowflake-looking id. */
export function player(n: number, joinedAt = 2): Player {
  return {
    userId: `5${String(n).padStart(17, '0')}`,
    username: `p${n}`,
    globalName: null,
    avatar: null,
    joinedAt,
  }
}

/** A stored room with `count` players, the first one owning it. */
function roomWith(count: number, overrides: Partial<RoomRecord> = {}): RoomRecord {
  const players = Array.from({ length: count }, (_, i) => player(900 + i, 1))
  return roomRecord({ players, ownerId: players[0]?.userId ?? '', ...overrides })
}

/** The behaviour every RoomStore implementation must have. */
export function roomStoreContract(name: string, factory: RoomStoreFactory) {
  describe(`room store contract: ${name}`, () => {
    let sut: StoreUnderTest
    let store: RoomStore
    beforeEach(async () => {
      sut = await factory.create()
      store = sut.store
    })
    afterEach(async () => {
      await sut.dispose()
    })

    it('starts empty, inserts, reads and lists rooms, and refuses a second room with the same id', async () => {
      expect(await store.list()).toEqual([])
      const room = roomRecord()
      await expect(store.get(room.id)).resolves.toBeNull()
      await store.insert(room)
      expect(await store.get(room.id)).toEqual(room)
      expect(await store.list()).toEqual([room])
      await expect(store.insert({ ...room, name: 'twin' })).rejects.toThrow()
      expect((await store.get(room.id))?.name).toBe(room.name)
    })

    it('mutate sees null for an unknown room, keeps a room when next is undefined, replaces it, deletes it with null', async () => {
      const seen: (RoomRecord | null)[] = []
      const result = await store.mutate('no_such_room_00001', (current) => {
        seen.push(current)
        return { result: 'nothing' }
      })
      expect(result).toBe('nothing')
      expect(seen).toEqual([null])
      expect(await store.list()).toEqual([])

      const room = roomRecord()
      await store.insert(room)
      await expect(store.mutate(room.id, () => ({ result: 1 }))).resolves.toBe(1)
      expect(await store.get(room.id)).toEqual(room)
      await store.mutate(room.id, (current) => ({
        next: current && { ...current, name: 'renamed' },
        result: null,
      }))
      expect((await store.get(room.id))?.name).toBe('renamed')
      await expect(store.mutate(room.id, () => ({ next: null, result: 'gone' }))).resolves.toBe(
        'gone',
      )
      expect(await store.get(room.id)).toBeNull()
      expect(await store.list()).toEqual([])
      // Deleting what is not there is a no-op, not an error.
      await expect(store.mutate(room.id, () => ({ next: null, result: 'again' }))).resolves.toBe(
        'again',
      )
    })

    it('takes seats atomically: 5 simultaneous joins into a room of 3 give exactly one seat', async () => {
      const room = roomWith(3)
      await store.insert(room)
      const writers = await sut.handles(5)
      const results = await Promise.all(
        writers.map((writer, i) => writer.mutate(room.id, takeSeat(player(i)))),
      )
      expect(results.filter((r) => r === 'added')).toHaveLength(1)
      expect(results.filter((r) => r === 'full')).toHaveLength(4)
      expect((await store.get(room.id))?.players).toHaveLength(4)
    })

    it('fills a room to exactly four seats under 8 simultaneous joins; a seated player joining again is a no-op', async () => {
      const room = roomWith(1)
      await store.insert(room)
      const writers = await sut.handles(8)
      const results = await Promise.all(
        writers.map((writer, i) => writer.mutate(room.id, takeSeat(player(i, 10 + i)))),
      )
      expect(results.filter((r) => r === 'added')).toHaveLength(3)
      expect(results.filter((r) => r === 'full')).toHaveLength(5)
      const seated = (await store.get(room.id))?.players ?? []
      expect(seated).toHaveLength(4)
      expect(seated[0]).toEqual(room.players[0])
      expect(new Set(seated.map((p) => p.userId)).size).toBe(4)

      const again = seated[1] ?? player(0)
      await expect(store.mutate(room.id, takeSeat({ ...again, joinedAt: 99 }))).resolves.toBe(
        'already',
      )
      expect((await store.get(room.id))?.players).toEqual(seated)
      await expect(store.mutate('no_such_room_00002', takeSeat(player(1)))).resolves.toBe('missing')
    })

    it('a seat taken is activity; removing a player frees the seat and hands ownership over', async () => {
      const room = roomWith(2, { lastActivityAt: 1 })
      await store.insert(room)
      await store.mutate(room.id, takeSeat(player(1, 500)))
      expect((await store.get(room.id))?.lastActivityAt).toBe(500)
      const [owner, second, third] = (await store.get(room.id))?.players ?? []
      const afterOwnerLeft = await store.mutate(room.id, removePlayer(owner?.userId ?? ''))
      expect(afterOwnerLeft?.ownerId).toBe(second?.userId)
      expect(await store.get(room.id)).toEqual(afterOwnerLeft)
      const afterGuestLeft = await store.mutate(room.id, removePlayer(third?.userId ?? ''))
      expect(afterGuestLeft?.ownerId).toBe(second?.userId)
      expect((await store.get(room.id))?.players.map((p) => p.userId)).toEqual([second?.userId])
      await expect(store.mutate('no_such_room_00003', removePlayer('1'))).resolves.toBeNull()
    })

    it('caps the rooms one owner holds: other owners do not count, a deleted room frees a place, a handed-over room counts for its new owner', async () => {
      const owner = '400000000000000071'
      const other = '400000000000000072'
      const cap = { maxRoomsPerOwner: 3 }
      const mine = [roomRecord({ ownerId: owner }), roomRecord({ ownerId: owner })]
      for (const room of mine) await expect(store.insert(room, cap)).resolves.toBe('inserted')
      await expect(store.insert(roomRecord({ ownerId: other }), cap)).resolves.toBe('inserted')
      await expect(store.insert(roomRecord({ ownerId: owner }), cap)).resolves.toBe('inserted')
      const refused = roomRecord({ ownerId: owner })
      await expect(store.insert(refused, cap)).resolves.toBe('owner_cap')
      expect(await store.get(refused.id)).toBeNull()
      expect(await store.list()).toHaveLength(4)
      // Without a cap nothing is counted.
      await expect(store.insert(roomRecord({ ownerId: owner }))).resolves.toBe('inserted')

      await store.mutate(mine[0]?.id ?? '', () => ({ next: null, result: null }))
      await store.mutate(mine[1]?.id ?? '', (room) => ({
        next: room && { ...room, ownerId: other },
        result: null,
      }))
      // The owner is down to two rooms (one deleted, one handed over), the other owner up to two.
      await expect(store.insert(roomRecord({ ownerId: owner }), cap)).resolves.toBe('inserted')
      await expect(store.insert(roomRecord({ ownerId: owner }), cap)).resolves.toBe('owner_cap')
      await expect(store.insert(roomRecord({ ownerId: other }), cap)).resolves.toBe('inserted')
      await expect(store.insert(roomRecord({ ownerId: other }), cap)).resolves.toBe('owner_cap')
    })

    it('keeps the owner cap atomic: 8 simultaneous inserts by one owner store exactly 3 rooms', async () => {
      const owner = '400000000000000073'
      const writers = await sut.handles(8)
      const results = await Promise.all(
        writers.map((writer) =>
          writer.insert(roomRecord({ ownerId: owner }), { maxRoomsPerOwner: 3 }),
        ),
      )
      expect(results.filter((r) => r === 'inserted')).toHaveLength(3)
      expect(results.filter((r) => r === 'owner_cap')).toHaveLength(5)
      expect((await store.list()).filter((r) => r.ownerId === owner)).toHaveLength(3)
    })

    it('tracks categories: adding twice keeps one, removing an unknown one is a no-op', async () => {
      expect(await store.listCategories(GUILD_A)).toEqual([])
      await store.addCategory('300000000000000009', GUILD_A)
      await store.addCategory('300000000000000009', GUILD_A)
      await store.addCategory('300000000000000010', GUILD_A)
      expect((await store.listCategories(GUILD_A)).sort()).toEqual([
        '300000000000000009',
        '300000000000000010',
      ])
      await store.removeCategory('300000000000000009')
      await store.removeCategory('300000000000000011')
      expect(await store.listCategories(GUILD_A)).toEqual(['300000000000000010'])
    })

    it("keeps each guild's categories apart", async () => {
      await store.addCategory('300000000000000013', GUILD_A)
      await store.addCategory('300000000000000014', GUILD_B)
      expect(await store.listCategories(GUILD_A)).toEqual(['300000000000000013'])
      expect(await store.listCategories(GUILD_B)).toEqual(['300000000000000014'])
      const reopened = await sut.reopen()
      expect(await reopened.listCategories(GUILD_B)).toEqual(['300000000000000014'])
      await reopened.removeCategory('300000000000000014')
      expect(await reopened.listCategories(GUILD_B)).toEqual([])
      expect(await reopened.listCategories(GUILD_A)).toEqual(['300000000000000013'])
    })

    it('keeps rooms, seats and categories across a restart', async () => {
      const room = roomWith(1)
      await store.insert(room)
      await store.addCategory('300000000000000012', GUILD_A)
      await store.mutate(room.id, takeSeat(player(7)))
      const reopened = await sut.reopen()
      expect((await reopened.get(room.id))?.players.map((p) => p.userId)).toEqual([
        room.players[0]?.userId,
        player(7).userId,
      ])
      expect(await reopened.list()).toHaveLength(1)
      expect(await reopened.listCategories(GUILD_A)).toEqual(['300000000000000012'])
    })

    if (factory.watches) {
      it('announces every insert, change and deletion by room id to its watchers', async () => {
        const seen: (string | null)[] = []
        const unwatch = store.watch?.((roomId) => seen.push(roomId))
        const [other] = await sut.handles(1)
        await sut.watching?.()
        const room = roomRecord()
        await other?.insert(room)
        await other?.mutate(room.id, (current) => ({ next: current, result: null }))
        await other?.mutate(room.id, () => ({ next: null, result: null }))
        await until(() => seen.length >= 3)
        expect(seen).toEqual([room.id, room.id, room.id])
        unwatch?.()
      })
    }
  })
}

/** Waits until `check` holds (polling), or fails after `ms`. */
async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
