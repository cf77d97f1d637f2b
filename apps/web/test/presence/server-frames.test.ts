import { ServerFrameSchema } from '@repo/discord-integration/contracts'
import { describe, expect, it } from 'vitest'
import {
  errorFrame,
  pongFrame,
  snapshotFrame,
  subscribedFrame,
} from '../../src/features/presence/server-frames'
import { member, roomState, sf } from './fixtures'

const ROOM = 'room_alpha_0001'
const TS = 1_800_000_000_000.25

/** What a browser gets: the frame's JSON text, parsed with the contract's schema. */
const onTheWire = (frame: object) => ServerFrameSchema.parse(JSON.parse(JSON.stringify(frame)))

describe('server frames', () => {
  it('builds error frames about the socket or a room, with seq 0', () => {
    expect(onTheWire(errorFrame(null, 'BAD_FRAME', 'Frames must be JSON text.', TS))).toEqual({
      v: 1,
      type: 'error',
      room: null,
      seq: 0,
      ts: TS,
      code: 'BAD_FRAME',
      message: 'Frames must be JSON text.',
    })
    expect(onTheWire(errorFrame(ROOM, 'FORBIDDEN', 'No.', TS))).toMatchObject({ room: ROOM })
  })

  it('echoes a ping id in the pong, and leaves it out when there was none', () => {
    expect(onTheWire(pongFrame(7, TS))).toEqual({
      v: 1,
      type: 'pong',
      room: null,
      seq: 0,
      ts: TS,
      id: 7,
    })
    expect('id' in onTheWire(pongFrame(undefined, TS))).toBe(false)
  })

  it('builds subscribed and snapshot frames that carry the stream position and epoch', () => {
    expect(onTheWire(subscribedFrame(ROOM, 4, TS, true, 'epoch-1'))).toEqual({
      v: 1,
      type: 'subscribed',
      room: ROOM,
      seq: 4,
      ts: TS,
      recovered: true,
      epoch: 'epoch-1',
    })
    const state = roomState(sf(1), [sf(1), sf(2)])
    const members = [member(sf(2), sf(901))]
    expect(
      onTheWire(snapshotFrame(ROOM, 4, TS, 'epoch-1', { channelId: sf(901), state }, members)),
    ).toEqual({
      v: 1,
      type: 'presence.snapshot',
      room: ROOM,
      seq: 4,
      ts: TS,
      channelId: sf(901),
      members,
      state,
      epoch: 'epoch-1',
    })
  })
})
