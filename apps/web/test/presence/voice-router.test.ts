import type { VoiceEvent } from '@repo/discord-integration/contracts'
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

  it('rooms in several guilds: each event reaches only the room of its channel, and a move to another guild leaves the first room once', () => {
    const GUILD_B = '100000000000000002'
    const CH_B_ROOM = sf(201)
    const router = new VoiceRouter({
      roomForChannel: (channelId) =>
        channelId === CH_A ? 'room_aaaaaaaaaa' : channelId === CH_B_ROOM ? 'room_guildbbbbb' : null,
    })
    const inB = (event: VoiceEvent): VoiceEvent => ({ ...event, guildId: GUILD_B })
    const V = sf(2)
    expect(router.route(joined(U, CH_A)).map((f) => f.roomId)).toEqual(['room_aaaaaaaaaa'])
    expect(router.route(inB(joined(V, CH_B_ROOM))).map((f) => f.roomId)).toEqual([
      'room_guildbbbbb',
    ])
    expect(
      router.route(inB(updated(V, CH_B_ROOM, { selfMute: true }))).map((f) => f.roomId),
    ).toEqual(['room_guildbbbbb'])
    // Discord connects a user to one voice channel at a time: joining in guild B (its shard may
    // report it first) leaves the room of guild A, and A's own late leave is not doubled.
    expect(router.route(inB(joined(U, CH_B_ROOM))).map((f) => [f.roomId, f.body.type])).toEqual([
      ['room_aaaaaaaaaa', 'voice.left'],
      ['room_guildbbbbb', 'voice.joined'],
    ])
    expect(router.route(left(U, CH_A))).toEqual([])
  })
})
