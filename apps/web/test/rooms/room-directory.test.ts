import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileRoomStore } from '../../src/features/rooms/file-room-store.server'
import { CachedRoomDirectory } from '../../src/features/rooms/room-directory.server'
import type { RoomRecord, RoomStore } from '../../src/features/rooms/room-store'
import { roomRecord } from './room-fixtures'
import { player } from './room-store-contract'

const logger = pino({ level: 'silent' })

/**
 * A real store whose reads wait until the test lets them through, and whose change
 * notifications the test sends, as another node's writes would.
 */
class GatedStore {
  readonly file: FileRoomStore
  readonly #gates: (() => void)[] = []
  #listener: ((roomId: string | null) => void) | null = null
  gets = 0
  gated = false

  constructor(path: string) {
    this.file = new FileRoomStore(path)
  }

  /** Lets the oldest waiting read through. */
  release(): void {
    this.#gates.shift()?.()
  }
  get waiting(): number {
    return this.#gates.length
  }
  notify(roomId: string | null): void {
    this.#listener?.(roomId)
  }

  /** The store as the directory sees it: list and get wait at the gate while gated. */
  get store(): RoomStore {
    const file = this.file
    const gate = async <T>(read: () => Promise<T>): Promise<T> => {
      // The read happens now: what the store holds at this moment is what comes back later.
      const value = await read()
      if (this.gated) await new Promise<void>((resolve) => this.#gates.push(resolve))
      return value
    }
    return {
      get: (id) => {
        this.gets++
        return gate(() => file.get(id))
      },
      list: () => gate(() => file.list()),
      insert: (room, options) => file.insert(room, options),
      mutate: (id, fn) => file.mutate(id, fn),
      listCategories: (guildId) => file.listCategories(guildId),
      addCategory: (id, guildId) => file.addCategory(id, guildId),
      removeCategory: (id) => file.removeCategory(id),
      close: () => file.close(),
      watch: (listener) => {
        this.#listener = listener
        return () => {
          this.#listener = null
        }
      },
    }
  }
}

/** Lets the event loop run until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setImmediate(r))
  expect(check()).toBe(true)
}

let dir: string
let gated: GatedStore
let directory: CachedRoomDirectory
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tv-directory-'))
  gated = new GatedStore(join(dir, 'rooms.json'))
  directory = new CachedRoomDirectory({ store: gated.store, logger })
})
afterEach(async () => {
  directory.stop()
  await gated.file.close()
  await rm(dir, { recursive: true, force: true })
})

describe('CachedRoomDirectory', () => {
  it('loads the stored rooms and answers the presence lookups for players only', async () => {
    const room = roomRecord({ players: [player(1), player(2)], ownerId: player(1).userId })
    await gated.file.insert(room)
    await directory.start()
    expect(directory.size).toBe(1)
    expect(directory.roomForChannel(room.channelId)).toBe(room.id)
    expect(directory.roomForChannel('299999999999999999')).toBeNull()
    expect(directory.roomAccess(room.id, player(2).userId)).toEqual({
      channelId: room.channelId,
      state: { ownerId: room.ownerId, players: room.players, status: 'open', closesAt: null },
    })
    expect(directory.roomAccess(room.id, player(3).userId)).toBeNull()
    expect(directory.roomAccess('no_such_room', player(1).userId)).toBeNull()
    expect(directory.ownedBy(player(1).userId)).toBe(1)
    expect(directory.ownedBy(player(2).userId)).toBe(0)
  })

  it('follows a room that moved to another channel, and forgets both ids when it is gone', async () => {
    const room = roomRecord()
    directory.remember(room)
    const moved: RoomRecord = { ...room, channelId: '299999999999999998' }
    directory.remember(moved)
    expect(directory.roomForChannel(room.channelId)).toBeNull()
    expect(directory.roomForChannel(moved.channelId)).toBe(room.id)
    directory.forget(room.id)
    expect(directory.roomForChannel(moved.channelId)).toBeNull()
    expect(directory.get(room.id)).toBeUndefined()
  })

  it('a full refresh that read the store before a local write does not undo it', async () => {
    const kept = roomRecord()
    const changed = roomRecord()
    const closed = roomRecord()
    for (const room of [kept, changed, closed]) await gated.file.insert(room)
    await directory.start()
    gated.gated = true
    const refresh = directory.refresh()
    await until(() => gated.waiting === 1)
    // While the list is on its way: this node renames one room, closes one and creates one.
    const renamed = { ...changed, name: 'renamed here' }
    directory.remember(renamed)
    directory.forget(closed.id)
    const created = roomRecord()
    directory.remember(created)
    gated.release()
    await refresh
    expect(directory.get(changed.id)).toEqual(renamed)
    expect(directory.get(closed.id)).toBeUndefined()
    expect(directory.get(created.id)).toEqual(created)
    expect(directory.get(kept.id)).toEqual(kept)

    // The next refresh, begun after those writes, takes the store's word again.
    gated.gated = false
    await directory.refresh()
    expect(directory.get(changed.id)?.name).toBe(changed.name)
    expect(directory.get(closed.id)).toEqual(closed)
    expect(directory.get(created.id)).toBeUndefined()
  })

  it('reloads a notified room one read at a time: notifications during a read cost one more read', async () => {
    const room = roomRecord()
    await directory.start()
    await gated.file.insert(room)
    gated.gated = true
    gated.notify(room.id)
    await until(() => gated.waiting === 1)
    await gated.file.mutate(room.id, (r) => ({ next: r && { ...r, name: 'second' }, result: 0 }))
    gated.notify(room.id)
    gated.notify(room.id)
    gated.notify(room.id)
    expect(gated.gets).toBe(1)
    gated.release()
    await until(() => gated.waiting === 1)
    expect(directory.get(room.id)?.name).toBe(room.name)
    gated.release()
    await until(() => directory.get(room.id)?.name === 'second')
    expect(gated.gets).toBe(2)

    // A notification for a deleted room forgets it; null (missed notifications) reloads all.
    gated.gated = false
    await gated.file.mutate(room.id, () => ({ next: null, result: 0 }))
    gated.notify(room.id)
    await until(() => directory.get(room.id) === undefined)
    const other = roomRecord()
    await gated.file.insert(other)
    gated.notify(null)
    await until(() => directory.get(other.id) !== undefined)
  })

  it('stops following notifications when stopped', async () => {
    await directory.start()
    directory.stop()
    const room = roomRecord()
    await gated.file.insert(room)
    gated.notify(room.id)
    await new Promise((r) => setImmediate(r))
    expect(gated.gets).toBe(0)
    expect(directory.size).toBe(0)
  })
})
