import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileRoomStore } from '../../src/features/rooms/file-room-store.server'
import { takeSeat } from '../../src/features/rooms/seat-rules'
import { roomRecord } from './room-fixtures'
import { player, roomStoreContract } from './room-store-contract'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tv-rooms-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

roomStoreContract('file', {
  watches: false,
  async create() {
    const path = join(dir, `contract-${Math.random().toString(36).slice(2)}.json`)
    const store = new FileRoomStore(path)
    return {
      store,
      // One process, one instance: concurrent writers share it (its mutations are synchronous).
      handles: async (count) => Array.from({ length: count }, () => store),
      async reopen() {
        await store.close()
        return new FileRoomStore(path)
      },
      dispose: () => store.close(),
    }
  },
})

describe('FileRoomStore', () => {
  it('survives a restart: a new store on the same file sees rooms and categories', async () => {
    const path = join(dir, 'rooms.json')
    const store = new FileRoomStore(path)
    const room = roomRecord()
    await store.insert(room)
    await store.addCategory('300000000000000001', room.guildId)
    await store.mutate(room.id, takeSeat({ ...player(2), userId: '400000000000000002' }))
    await store.close()
    const reopened = new FileRoomStore(path)
    expect((await reopened.get(room.id))?.players.map((p) => p.userId)).toEqual([
      '400000000000000001',
      '400000000000000002',
    ])
    expect(await reopened.listCategories(room.guildId)).toEqual(['300000000000000001'])
  })

  it('reads a file written before guilds were recorded: its categories belong to the home guild', async () => {
    const path = join(dir, 'rooms.json')
    const room = roomRecord()
    await writeFile(
      path,
      JSON.stringify({ version: 1, rooms: [room], categories: ['300000000000000031'] }),
    )
    const store = new FileRoomStore(path, { homeGuildId: room.guildId })
    expect(await store.listCategories(room.guildId)).toEqual(['300000000000000031'])
    expect(await store.get(room.id)).toEqual(room)
    // Written back with its guild: a later home guild does not take it over.
    await store.addCategory('300000000000000032', '100000000000000002')
    await store.close()
    const reopened = new FileRoomStore(path, { homeGuildId: '100000000000000009' })
    expect(await reopened.listCategories(room.guildId)).toEqual(['300000000000000031'])
    expect(await reopened.listCategories('100000000000000002')).toEqual(['300000000000000032'])
  })

  it('writes atomically: no temp files are left and the file is always valid JSON', async () => {
    const path = join(dir, 'rooms.json')
    const store = new FileRoomStore(path)
    await Promise.all(Array.from({ length: 20 }, () => store.insert(roomRecord())))
    await store.close()
    expect(await readdir(dir)).toEqual(['rooms.json'])
    expect(JSON.parse(await readFile(path, 'utf8')).rooms).toHaveLength(20)
  })

  it('coalesces a burst of changes into a couple of writes, every change on disk when each resolves', async () => {
    const path = join(dir, 'rooms.json')
    const store = new FileRoomStore(path)
    const rooms = Array.from({ length: 200 }, () => roomRecord())
    await Promise.all(rooms.map((room) => store.insert(room)))
    const before = store.writes
    // 2,500 rooms touched at once brought the server down when each change queued its own copy.
    await Promise.all(
      rooms.map(async (room, i) => {
        await store.mutate(room.id, (current) => ({
          next: current ? { ...current, lastActivityAt: 1000 + i } : null,
          result: null,
        }))
        // resolved: this change is in the file
        const onDisk = JSON.parse(await readFile(path, 'utf8')).rooms as {
          id: string
          lastActivityAt: number
        }[]
        expect(onDisk.find((r) => r.id === room.id)?.lastActivityAt).toBe(1000 + i)
      }),
    )
    expect(store.writes - before).toBeLessThanOrEqual(3)
    await store.close()
  })

  it('deletes with next: null and refuses duplicate ids', async () => {
    const store = new FileRoomStore(join(dir, 'rooms.json'))
    const room = roomRecord()
    await store.insert(room)
    await expect(store.insert(room)).rejects.toThrow()
    await store.mutate(room.id, () => ({ next: null, result: true }))
    expect(await store.get(room.id)).toBeNull()
    expect(await store.list()).toEqual([])
  })
})
