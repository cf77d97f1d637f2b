import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileRoomStore } from '../../src/features/rooms/file-room-store.server'
import { LifecycleRunner } from '../../src/features/rooms/lifecycle-runner.server'
import { CachedRoomDirectory } from '../../src/features/rooms/room-directory.server'
import type { RoomRecord, RoomStore } from '../../src/features/rooms/room-store'
import type { RoomFrameBody } from '../../src/server/ports'
import { ManualClock } from '../support/manual-clock'
import { roomRecord } from './room-fixtures'

const logger = pino({ level: 'silent' })
const HOUR = 60 * 60 * 1000

let dir: string
let file: FileRoomStore
/** Room copies the store hands the next mutation first, as a compare-and-set store that lost a race does. */
let stale: RoomRecord[]
let calls: string[]
let clock: ManualClock
let runner: LifecycleRunner
let directory: CachedRoomDirectory

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tv-lifecycle-'))
  file = new FileRoomStore(join(dir, 'rooms.json'))
  stale = []
  calls = []
  clock = new ManualClock()
  // Like RedisRoomStore on a conflict: the decision runs on an outdated copy, is thrown away,
  // and runs again on the latest one.
  const store: RoomStore = {
    get: (id) => file.get(id),
    list: () => file.list(),
    insert: (room, options) => file.insert(room, options),
    mutate: (id, fn) => {
      const outdated = stale.shift()
      if (outdated) fn(outdated)
      return file.mutate(id, fn)
    },
    listCategories: (guildId) => file.listCategories(guildId),
    addCategory: (id, guildId) => file.addCategory(id, guildId),
    removeCategory: (id) => file.removeCategory(id),
    close: () => file.close(),
  }
  directory = new CachedRoomDirectory({ store, logger })
  runner = new LifecycleRunner({
    store,
    directory,
    discord: {
      forGuild: () => ({
        deleteChannel: async (channelId) => {
          calls.push(`deleteChannel ${channelId}`)
        },
      }),
    },
    events: {
      publish: (roomId: string, frame: RoomFrameBody) => calls.push(`${frame.type} ${roomId}`),
      viewerCount: () => 0,
    },
    clock,
    logger,
  })
})
afterEach(async () => {
  await file.close()
  await rm(dir, { recursive: true, force: true })
})

describe('LifecycleRunner', () => {
  it('decides on the store’s latest copy and performs only the effects of the transition it wrote', async () => {
    const room = roomRecord({ lastActivityAt: clock.now() })
    await file.insert(room)
    await clock.advance(HOUR)
    // The outdated copy says the warning is long over; the store's copy was active a second ago.
    stale.push({ ...room, status: 'closing', closesAt: clock.now() - 1 })
    await file.mutate(room.id, (r) => ({
      next: r && { ...r, lastActivityAt: clock.now() - 1000 },
      result: 0,
    }))
    const applied = await runner.apply(room.id, { type: 'idleTick' })
    expect(applied.effects).toEqual([])
    expect(calls).toEqual([])
    expect((await file.get(room.id))?.status).toBe('open')
    expect(directory.get(room.id)?.lastActivityAt).toBe(clock.now() - 1000)
  })

  it('closing writes the removal, deletes the channel, then tells the browsers; once', async () => {
    const room = roomRecord()
    await file.insert(room)
    directory.remember(room)
    stale.push(room)
    await expect(runner.close(room.id, 'closed')).resolves.toBe(true)
    expect(calls).toEqual([`deleteChannel ${room.channelId}`, `room.deleted ${room.id}`])
    expect(await file.get(room.id)).toBeNull()
    expect(directory.roomForChannel(room.channelId)).toBeNull()
    await expect(runner.close(room.id, 'closed')).resolves.toBe(false)
    await expect(runner.close(room.id, 'channel_gone')).resolves.toBe(false)
    expect(calls).toHaveLength(2)
  })

  it('a room whose channel is gone is closed without a channel deletion', async () => {
    const room = roomRecord()
    await file.insert(room)
    await expect(runner.close(room.id, 'channel_gone')).resolves.toBe(true)
    expect(calls).toEqual([`room.deleted ${room.id}`])
  })
})
