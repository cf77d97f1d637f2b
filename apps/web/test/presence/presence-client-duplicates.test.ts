import type { ServerFrame } from '@repo/discord-integration/contracts'
import { describe, expect, it } from 'vitest'
import { PresenceClient, type SocketLike } from '../../src/features/presence/presence-client'
import { member, roomState, sf } from './fixtures'

const ROOM = 'room_alpha_0001'
const CH = sf(901)
const ME = sf(1)

/** A socket the test drives by hand. */
function fakeSocket() {
  const sent: unknown[] = []
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

describe('presence client frame listeners', () => {
  it('hear each room frame once, not again when the server repeats it', () => {
    const fake = fakeSocket()
    const presence = new PresenceClient({
      url: 'ws://test/api/ws',
      watchNetwork: false,
      createSocket: () => fake.socket,
    })
    const release = presence.retain(ROOM)
    fake.socket.onopen?.({})
    const heard: string[] = []
    presence.onFrame(ROOM, (frame) => heard.push(`${frame.type}@${frame.seq}`))
    const base = { v: 1 as const, room: ROOM, ts: 1 }
    fake.receive({ ...base, type: 'subscribed', seq: 3, recovered: false })
    fake.receive({
      ...base,
      type: 'presence.snapshot',
      seq: 3,
      channelId: CH,
      members: [member(ME, CH)],
      state: roomState(ME, [ME]),
    })
    const left: ServerFrame = {
      ...base,
      type: 'voice.left',
      seq: 4,
      userId: ME,
      channelId: CH,
      reason: 'left',
      receivedAt: 1,
    }
    fake.receive(left)
    fake.receive(left) // a replay overlapping what we already applied
    fake.receive({ ...left, seq: 2 }) // older than the snapshot
    expect(heard.filter((h) => h.startsWith('voice.left'))).toEqual(['voice.left@4'])
    expect(presence.getStream(ROOM).members).toEqual([])
    release()
    presence.destroy()
  })
})
