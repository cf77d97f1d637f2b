import { type APIGuildVoiceChannel, Routes } from 'discord-api-types/v10'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileRoomStore } from '../../src/features/rooms/file-room-store.server'
import { InviteTokens } from '../../src/features/rooms/invite-token.server'
import { makeService, newActor, SECRET, startWorld, tokenOf, type World } from './harness'

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(async () => {
  await world?.close()
})

const channelExists = (id: string) => world.emu.control.state().channels.some((c) => c.id === id)
const getChannel = (id: string) =>
  world.rest.get(Routes.channel(id)) as Promise<APIGuildVoiceChannel>
const lobby = () => {
  const ch = world.emu.control
    .state()
    .channels.find((c) => c.type === 2 && !c.name.startsWith('Table Voice'))
  if (!ch) throw new Error('the emulator world needs a voice channel')
  return ch.id
}

describe('restarts and reconciliation', () => {
  it('rooms and invites survive a restart (new RoomService on the same file)', async () => {
    const path = `${world.dir}/restart.json`
    const make = () =>
      makeService(world, {
        store: new FileRoomStore(path),
        invites: new InviteTokens({ secret: SECRET, now: () => Date.now() }),
      }).service
    const first = make()
    const owner = newActor(world)
    const room = await first.createRoom(owner, 'durable')
    const second = make()
    await second.start()
    expect(second.roomForChannel(room.channelId)).toBe(room.id)
    const guest = newActor(world)
    const joined = await second.joinRoom(guest, room.id, tokenOf(room.invite?.url))
    expect(joined.room.players).toHaveLength(2)
    second.stop()
  })

  it('deletes orphan channels in our categories, closes rooms whose channel is gone, spares other channels', async () => {
    const { service, store, events } = makeService(world)
    const owner = newActor(world)
    const kept = await service.createRoom(owner, 'kept')
    const gone = await service.createRoom(owner, 'gone')
    const category = (await getChannel(kept.channelId)).parent_id as string
    const orphan = await world.discord.createRoomChannel({
      name: 'orphan',
      parentId: category,
      ownerId: owner.userId,
    })
    await world.rest.delete(Routes.channel(gone.channelId))
    const foreign = lobby()
    const report = await service.reconcile()
    expect(report.deletedChannels).toEqual([orphan])
    expect(report.closedRooms).toEqual([gone.id])
    expect(channelExists(orphan)).toBe(false)
    expect(channelExists(kept.channelId)).toBe(true)
    expect(channelExists(foreign)).toBe(true)
    expect(await store.get(gone.id)).toBeNull()
    expect(events.published.find((p) => p.roomId === gone.id)?.frame).toEqual({
      type: 'room.deleted',
      reason: 'channel_gone',
    })
    expect(await service.reconcile()).toEqual({ deletedChannels: [], closedRooms: [] })
  })
  it('a reconciliation that starts while a room is being created does not delete it', async () => {
    let reconciling: Promise<unknown> | null = null
    // Discord answers the channel creation; a reconciliation starts right then, and the
    // room's store insert is still to come.
    const discord = new Proxy(world.discord, {
      get(target, prop, receiver) {
        // The world's one guild, through this proxy.
        if (prop === 'forGuild') return () => receiver
        if (prop === 'createRoomChannel') {
          return async (input: Parameters<typeof target.createRoomChannel>[0]) => {
            const id = await target.createRoomChannel(input)
            reconciling = service.reconcile()
            await new Promise((resolve) => setTimeout(resolve, 100))
            return id
          }
        }
        const value = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const { service } = makeService(world, { discord })
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'busy')
    expect(reconciling).not.toBeNull()
    expect(await reconciling).toEqual({ deletedChannels: [], closedRooms: [] })
    expect(channelExists(room.channelId)).toBe(true)
    await expect(service.getRoom(owner, room.id)).resolves.toMatchObject({ id: room.id })
  })
})
