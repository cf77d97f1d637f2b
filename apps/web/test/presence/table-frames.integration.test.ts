import { afterEach, describe, expect, it } from 'vitest'
import { until } from './bus-contract'
import { member, roomState, sf } from './fixtures'
import { connect, type Harness, startHarness, type TestClient } from './ws-harness'

/**
 * The presence protocol's additions for the table (issue 21) over real sockets: who has the page
 * open (room.viewers, summary subscriptions not counted), spectators' subscriptions, live
 * profiles (profile.updated) and the caller's own rooms (rooms.follow / rooms.list).
 */

const ROOM = 'room_table_0001'
const OTHER_ROOM = 'room_table_0002'
const CH = sf(901)
const [HOST, GUEST, FAN, STRANGER] = [sf(1), sf(2), sf(3), sf(4)]

let harness: Harness
const clients: TestClient[] = []

async function setup() {
  harness = await startHarness()
  harness.rooms.add(ROOM, CH, {
    ...roomState(HOST, [HOST, GUEST]),
    spectators: [{ userId: FAN, username: 'fan', globalName: null, avatar: null, joinedAt: 5 }],
  })
  return harness
}
async function open(userId: string) {
  const client = await connect(harness.url, { userId })
  clients.push(client)
  return client
}
async function subscribe(client: TestClient, room: string, extra: Record<string, unknown> = {}) {
  client.send({ v: 1, type: 'subscribe', room, ...extra })
  return client.next('subscribed', (f) => f.room === room)
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate()
  await harness?.close()
})

describe('who is here (room.viewers)', () => {
  it('the snapshot says who has the page open; opening and closing it is told to the others', async () => {
    await setup()
    const host = await open(HOST)
    await subscribe(host, ROOM)
    const snapshot = await host.next('presence.snapshot')
    expect(snapshot.viewers).toEqual([HOST])
    const guest = await open(GUEST)
    await subscribe(guest, ROOM)
    expect((await guest.next('presence.snapshot')).viewers).toEqual([HOST, GUEST])
    expect(await host.next('room.viewers')).toMatchObject({
      room: ROOM,
      seq: 0,
      viewers: [HOST, GUEST],
    })
    guest.ws.terminate()
    expect(await host.next('room.viewers')).toMatchObject({ viewers: [HOST] })
    // The guest was told nothing twice: a viewers frame goes only where it is news.
    expect(guest.frames.filter((f) => f.type === 'room.viewers')).toEqual([])
  })

  it('a summary subscription (a list of rooms) gets the stream but is not “here”', async () => {
    await setup()
    const host = await open(HOST)
    await subscribe(host, ROOM)
    await host.next('presence.snapshot')
    const list = await open(GUEST)
    await subscribe(list, ROOM, { mode: 'summary' })
    expect((await list.next('presence.snapshot')).viewers).toEqual([HOST])
    expect(harness.service.viewerCount(ROOM)).toBe(1)
    harness.voice.join(GUEST, CH)
    await list.next('voice.joined')
    await host.next('voice.joined')
    expect(host.frames.some((f) => f.type === 'room.viewers')).toBe(false)
  })
})

describe('spectators on the stream', () => {
  it('are subscribed like players and cut off when a room.updated no longer lists them', async () => {
    await setup()
    const fan = await open(FAN)
    await subscribe(fan, ROOM)
    expect((await fan.next('presence.snapshot')).state.spectators).toHaveLength(1)
    const stranger = await open(STRANGER)
    stranger.send({ v: 1, type: 'subscribe', room: ROOM })
    expect(await stranger.next('error')).toMatchObject({ code: 'FORBIDDEN', room: ROOM })
    const state = roomState(HOST, [HOST, GUEST])
    harness.rooms.add(ROOM, CH, state)
    harness.service.publish(ROOM, { type: 'room.updated', state })
    expect(await fan.next('error')).toMatchObject({ code: 'FORBIDDEN', room: ROOM })
    await until(() => harness.service.viewerCount(ROOM) === 0)
  })
})

describe('live profiles (profile.updated)', () => {
  it('reach the rooms where the user sits or watches, and the room of their voice channel', async () => {
    await setup()
    harness.rooms.add(OTHER_ROOM, sf(902), roomState(STRANGER, [STRANGER]))
    const host = await open(HOST)
    await subscribe(host, ROOM)
    await host.next('presence.snapshot')
    const stranger = await open(STRANGER)
    await subscribe(stranger, OTHER_ROOM)
    await stranger.next('presence.snapshot')
    const profile = { username: 'guest', globalName: 'Guest Star', avatar: null }
    harness.voice.rename(GUEST, profile)
    expect(await host.next('profile.updated')).toMatchObject({
      room: ROOM,
      seq: 0,
      userId: GUEST,
      profile,
    })
    // A bystander in the room's channel (neither seated nor watching) is renamed there too.
    harness.voice.join(sf(77), CH)
    await host.next('voice.joined', (f) => f.member.userId === sf(77))
    harness.voice.rename(sf(77), { ...profile, username: 'bystander' })
    expect(await host.next('profile.updated', (f) => f.userId === sf(77))).toMatchObject({
      profile: { username: 'bystander' },
    })
    // Not to a room the user has nothing to do with.
    stranger.send({ v: 1, type: 'ping', id: 9 })
    await stranger.next('pong')
    expect(stranger.frames.some((f) => f.type === 'profile.updated')).toBe(false)
    // And the snapshot of a page opened now shows the new name of the member in voice.
    const late = await open(GUEST)
    await subscribe(late, ROOM)
    const members = (await late.next('presence.snapshot')).members
    expect(members.find((m) => m.userId === sf(77))).toEqual({
      ...member(sf(77), CH),
      ...profile,
      username: 'bystander',
    })
  })
})

describe('the caller’s own rooms (rooms.follow)', () => {
  it('answers with the rooms they host or sit in, and again when one is created, joined, left or closed', async () => {
    await setup()
    harness.voice.join(HOST, CH)
    const guest = await open(GUEST)
    guest.send({ v: 1, type: 'rooms.follow' })
    const first = await guest.next('rooms.list')
    expect(first).toMatchObject({ room: null, seq: 0 })
    expect(first.rooms).toMatchObject([{ id: ROOM, role: 'player', players: 2, inVoice: 1 }])
    // Created elsewhere, with the guest as host.
    harness.rooms.add(OTHER_ROOM, sf(902), roomState(GUEST, [GUEST]))
    const second = await guest.next('rooms.list')
    expect(second.rooms.map((r) => [r.id, r.role])).toEqual([
      [ROOM, 'player'],
      [OTHER_ROOM, 'host'],
    ])
    // Left elsewhere.
    harness.rooms.add(ROOM, CH, roomState(HOST, [HOST]))
    expect((await guest.next('rooms.list')).rooms.map((r) => r.id)).toEqual([OTHER_ROOM])
    // A spectator's rooms are not on their home page.
    const fan = await open(FAN)
    harness.rooms.add(ROOM, CH, {
      ...roomState(HOST, [HOST]),
      spectators: [{ userId: FAN, username: 'fan', globalName: null, avatar: null, joinedAt: 5 }],
    })
    fan.send({ v: 1, type: 'rooms.follow' })
    expect((await fan.next('rooms.list')).rooms).toEqual([])
    // Closed; and after rooms.unfollow, nothing more.
    harness.rooms.remove(OTHER_ROOM)
    expect((await guest.next('rooms.list')).rooms).toEqual([])
    guest.send({ v: 1, type: 'rooms.unfollow' })
    guest.send({ v: 1, type: 'ping', id: 1 })
    await guest.next('pong')
    harness.rooms.add(OTHER_ROOM, sf(902), roomState(GUEST, [GUEST]))
    guest.send({ v: 1, type: 'ping', id: 2 })
    await guest.next('pong')
    expect(guest.frames.filter((f) => f.type === 'rooms.list')).toHaveLength(4)
  })
})
