import { describe, expect, it } from 'vitest'
import { VoiceRouter } from '../../src/features/presence/voice-router'
import { joined, left, sf, updated } from './fixtures'

const CH_A = sf(101)
const CH_B = sf(102)
const CH_FREE = sf(103)
const rooms = {
  roomForChannel: (channelId: string) =>
    channelId === CH_A ? 'room_aaaaaaaaaa' : channelId === CH_B ? 'room_bbbbbbbbbb' : null,
}
const U = sf(1)

describe('voice router', () => {
  it('routes joins, updates and leaves to the room owning the channel', () => {
    const router = new VoiceRouter(rooms)
    expect(router.route(joined(U, CH_A))).toMatchObject([
      { roomId: 'room_aaaaaaaaaa', body: { type: 'voice.joined', member: { userId: U } } },
    ])
    expect(router.route(updated(U, CH_A, { selfMute: true }))).toMatchObject([
      { roomId: 'room_aaaaaaaaaa', body: { type: 'voice.updated', changed: ['selfMute'] } },
    ])
    expect(router.route(left(U, CH_A))).toMatchObject([
      {
        roomId: 'room_aaaaaaaaaa',
        body: { type: 'voice.left', userId: U, channelId: CH_A, reason: 'left' },
      },
    ])
  })

  it('drops events of channels that belong to no room', () => {
    const router = new VoiceRouter(rooms)
    expect(router.route(joined(U, CH_FREE))).toEqual([])
    expect(router.route(updated(U, CH_FREE, { selfVideo: true }))).toEqual([])
    expect(router.route(left(U, CH_FREE))).toEqual([])
  })

  it('turns a move reported as left(A)+joined(B) into left on A and joined on B', () => {
    const router = new VoiceRouter(rooms)
    router.route(joined(U, CH_A))
    expect(router.route(left(U, CH_A, 'moved'))).toMatchObject([
      { roomId: 'room_aaaaaaaaaa', body: { type: 'voice.left', reason: 'moved' } },
    ])
    expect(router.route(joined(U, CH_B))).toMatchObject([
      { roomId: 'room_bbbbbbbbbb', body: { type: 'voice.joined' } },
    ])
  })

  it('synthesises the left on A when a move arrives as a single joined(B), and does not double a late left(A)', () => {
    const router = new VoiceRouter(rooms)
    router.route(joined(U, CH_A))
    const out = router.route(joined(U, CH_B))
    expect(out).toMatchObject([
      {
        roomId: 'room_aaaaaaaaaa',
        body: { type: 'voice.left', userId: U, channelId: CH_A, reason: 'moved' },
      },
      { roomId: 'room_bbbbbbbbbb', body: { type: 'voice.joined' } },
    ])
    expect(router.route(left(U, CH_A, 'moved'))).toEqual([])
    expect(router.route(left(U, CH_B))).toHaveLength(1)
  })

  it('moves from a room channel to a free channel leave the room only', () => {
    const router = new VoiceRouter(rooms)
    router.route(joined(U, CH_A))
    expect(router.route(joined(U, CH_FREE))).toMatchObject([
      { roomId: 'room_aaaaaaaaaa', body: { type: 'voice.left', reason: 'moved' } },
    ])
  })

  it('reports an unannounced move seen through voice.updated as left + joined', () => {
    const router = new VoiceRouter(rooms)
    router.route(joined(U, CH_A))
    expect(router.route(updated(U, CH_B, { selfMute: true }))).toMatchObject([
      { roomId: 'room_aaaaaaaaaa', body: { type: 'voice.left', reason: 'moved' } },
      { roomId: 'room_bbbbbbbbbb', body: { type: 'voice.joined', member: { selfMute: true } } },
    ])
  })
})
