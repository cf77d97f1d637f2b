import type { ServerFrame } from '@repo/discord-integration/contracts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PresenceClient, type SocketLike } from '../../src/features/presence/presence-client'
import { applyFrame, EMPTY_STREAM } from '../../src/features/presence/room-stream'
import { member, roomState, sf } from './fixtures'

const ROOM = 'room_alpha_0001'
const CH = sf(901)
const [ME, YOU] = [sf(1), sf(2)]
const base = { v: 1 as const, room: ROOM, ts: 1 }

afterEach(() => {
  vi.useRealTimers()
})

function snapshot(seq: number): Extract<ServerFrame, { type: 'presence.snapshot' }> {
  return {
    ...base,
    type: 'presence.snapshot',
    seq,
    channelId: CH,
    members: [member(YOU, CH)],
    state: roomState(ME, [ME, YOU]),
    viewers: [ME],
  }
}

describe('the room stream and the table’s frames', () => {
  it('takes who is here from the snapshot and the unnumbered room.viewers, whatever the seq', () => {
    let stream = applyFrame(EMPTY_STREAM, snapshot(5)).stream
    expect(stream.viewers).toEqual([ME])
    const viewers: ServerFrame = { ...base, type: 'room.viewers', seq: 0, viewers: [ME, YOU] }
    const after = applyFrame(stream, viewers)
    expect(after.gap).toBe(false)
    stream = after.stream
    expect(stream.viewers).toEqual([ME, YOU])
    expect(stream.seq).toBe(5)
    // A resume's `subscribed` carries them too.
    const resumed = applyFrame(stream, {
      ...base,
      type: 'subscribed',
      seq: 5,
      recovered: true,
      viewers: [YOU],
    })
    expect(resumed.stream.viewers).toEqual([YOU])
  })

  it('applies profile.updated to the voice member, the seat and the spectator place', () => {
    const withFan: Extract<ServerFrame, { type: 'presence.snapshot' }> = {
      ...snapshot(2),
      state: {
        ...roomState(ME, [ME, YOU]),
        spectators: [
          { userId: sf(3), username: 'fan', globalName: null, avatar: null, joinedAt: 1 },
        ],
      },
    }
    let stream = applyFrame(EMPTY_STREAM, withFan).stream
    const rename = (userId: string, globalName: string): ServerFrame => ({
      ...base,
      type: 'profile.updated',
      seq: 0,
      userId,
      profile: { username: 'u', globalName, avatar: 'a_0123456789abcdef0123456789abcdef' },
    })
    stream = applyFrame(stream, rename(YOU, 'Yolanda')).stream
    expect(stream.members[0]?.globalName).toBe('Yolanda')
    expect(stream.state?.players[1]).toMatchObject({
      globalName: 'Yolanda',
      joinedAt: roomState(ME, [ME, YOU]).players[1]?.joinedAt,
    })
    stream = applyFrame(stream, rename(sf(3), 'Fanny')).stream
    expect(stream.state?.spectators?.[0]?.globalName).toBe('Fanny')
    expect(stream.seq).toBe(2)
  })
})

function fakeSocket() {
  const sent: Record<string, unknown>[] = []
  const socket: SocketLike = {
    send: (data) => sent.push(JSON.parse(data)),
    close: () => {},
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  }
  const receive = (frame: ServerFrame) => socket.onmessage?.({ data: JSON.stringify(frame) })
  return { socket, sent, receive }
}

describe('the presence client for the table', () => {
  it('subscribes a room page as a page, a list line as a summary, and switches when both show it', async () => {
    const fake = fakeSocket()
    const presence = new PresenceClient({
      url: 'ws://t/api/ws',
      watchNetwork: false,
      createSocket: () => fake.socket,
    })
    const releaseLine = presence.retain(ROOM, 'summary')
    fake.socket.onopen?.({})
    expect(fake.sent.at(-1)).toMatchObject({ type: 'subscribe', room: ROOM, mode: 'summary' })
    const releasePage = presence.retain(ROOM)
    expect(fake.sent.at(-1)).toMatchObject({ type: 'subscribe', room: ROOM })
    expect(fake.sent.at(-1)).not.toHaveProperty('mode')
    releasePage()
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(fake.sent.at(-1)).toMatchObject({ type: 'subscribe', room: ROOM, mode: 'summary' })
    releaseLine()
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(fake.sent.at(-1)).toMatchObject({ type: 'unsubscribe', room: ROOM })
    presence.destroy()
  })

  it('follows the user’s rooms on every (re)connect and keeps the last rooms.list', async () => {
    // The reconnect waits out the client's backoff: on the fake clock, not on a real one.
    vi.useFakeTimers()
    const sockets = [fakeSocket(), fakeSocket()]
    let opened = 0
    const presence = new PresenceClient({
      url: 'ws://t/api/ws',
      watchNetwork: false,
      createSocket: () => {
        const next = sockets[opened++] ?? sockets[1]
        if (!next) throw new Error('no socket')
        return next.socket
      },
      random: () => 0,
    })
    const heard: number[] = []
    presence.subscribeRoomsList(() => heard.push(presence.getRoomsList()?.length ?? -1))
    const release = presence.followRooms()
    const [first, second] = sockets
    first?.socket.onopen?.({})
    expect(first?.sent).toEqual([{ v: 1, type: 'rooms.follow' }])
    first?.receive({ v: 1, type: 'rooms.list', room: null, seq: 0, ts: 1, rooms: [] })
    expect(heard).toEqual([0])
    first?.socket.onclose?.({ code: 1006 })
    expect(opened).toBe(1)
    await vi.runOnlyPendingTimersAsync()
    expect(opened).toBe(2)
    second?.socket.onopen?.({})
    expect(second?.sent).toEqual([{ v: 1, type: 'rooms.follow' }])
    release()
    await vi.runOnlyPendingTimersAsync()
    expect(second?.sent.at(-1)).toEqual({ v: 1, type: 'rooms.unfollow' })
    expect(presence.status).toBe('disconnected')
    presence.destroy()
  })
})
