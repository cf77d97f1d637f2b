import { describe, expect, it } from 'vitest'
import {
  APP_ERRORS,
  ClientFrameSchema,
  JoinByCodeInputSchema,
  normaliseRoomCode,
  PlayerSchema,
  ROOM_CODE_ALPHABET,
  RoomCodeSchema,
  RoomStateSchema,
  ServerFrameSchema,
  VoiceEventSchema,
} from '../src/contracts'

const ROOM = 'abcdefghij'
const USER = '300000000000000001'

describe('room codes', () => {
  it('use an alphabet without look-alikes', () => {
    for (const c of '0O1IL') expect(ROOM_CODE_ALPHABET).not.toContain(c)
    expect(new Set(ROOM_CODE_ALPHABET).size).toBe(ROOM_CODE_ALPHABET.length)
  })

  it('accept a code typed in any case, with spaces or a dash', () => {
    expect(RoomCodeSchema.parse('k7m-q2x')).toBe('K7MQ2X')
    expect(RoomCodeSchema.parse(' K7M Q2X ')).toBe('K7MQ2X')
    expect(normaliseRoomCode('ab-cd ef')).toBe('ABCDEF')
    expect(JoinByCodeInputSchema.parse({ code: 'abcdef' })).toEqual({ code: 'ABCDEF' })
  })

  it('refuse codes of the wrong length or with characters outside the alphabet', () => {
    for (const bad of ['K7MQ2', 'K7MQ2XX', 'K7MQ20', 'K7MQ2O', 'K7MQ2I', 'K7MQ2L', 'K7M?2X', '']) {
      expect(RoomCodeSchema.safeParse(bad).success).toBe(false)
    }
  })
})

describe('typed refusals of the table features', () => {
  it('have their own codes and statuses', () => {
    expect(APP_ERRORS.ROOM_LOCKED.status).toBe(409)
    expect(APP_ERRORS.SPECTATORS_FULL.status).toBe(409)
    expect(APP_ERRORS.CODE_INVALID.status).toBe(404)
    expect(APP_ERRORS.CODE_ATTEMPTS.status).toBe(429)
  })
})

describe('presence protocol additions (compatible with v1)', () => {
  const player = { userId: USER, username: 'ada', globalName: null, avatar: null, joinedAt: 1 }

  it('a room state from before the additions still parses; the additions are optional', () => {
    const old = { ownerId: USER, players: [player], status: 'open', closesAt: null }
    expect(RoomStateSchema.parse(old)).toEqual(old)
    const full = {
      ...old,
      players: [{ ...player, heldUntil: 5 }],
      spectators: [{ ...player, userId: '300000000000000002' }],
      locked: true,
      linksRev: 3,
    }
    expect(RoomStateSchema.parse(full)).toEqual(full)
    expect(PlayerSchema.parse(player)).toEqual(player)
  })

  it('subscribe takes an optional mode; rooms.follow and rooms.unfollow are client frames', () => {
    expect(ClientFrameSchema.safeParse({ v: 1, type: 'subscribe', room: ROOM }).success).toBe(true)
    expect(
      ClientFrameSchema.safeParse({ v: 1, type: 'subscribe', room: ROOM, mode: 'summary' }).success,
    ).toBe(true)
    expect(
      ClientFrameSchema.safeParse({ v: 1, type: 'subscribe', room: ROOM, mode: 'other' }).success,
    ).toBe(false)
    expect(ClientFrameSchema.safeParse({ v: 1, type: 'rooms.follow' }).success).toBe(true)
    expect(ClientFrameSchema.safeParse({ v: 1, type: 'rooms.unfollow' }).success).toBe(true)
  })

  it('the new server frames are outside the numbered stream (seq 0)', () => {
    const viewers = { v: 1, type: 'room.viewers', room: ROOM, seq: 0, ts: 1, viewers: [USER] }
    expect(ServerFrameSchema.safeParse(viewers).success).toBe(true)
    expect(ServerFrameSchema.safeParse({ ...viewers, seq: 4 }).success).toBe(false)
    const profile = {
      v: 1,
      type: 'profile.updated',
      room: ROOM,
      seq: 0,
      ts: 1,
      userId: USER,
      profile: { username: 'ada', globalName: 'Ada L.', avatar: null },
    }
    expect(ServerFrameSchema.safeParse(profile).success).toBe(true)
    expect(ServerFrameSchema.safeParse({ ...profile, seq: 2 }).success).toBe(false)
    const list = {
      v: 1,
      type: 'rooms.list',
      room: null,
      seq: 0,
      ts: 1,
      rooms: [
        {
          id: ROOM,
          name: 'Friday',
          role: 'host',
          players: 2,
          maxPlayers: 4,
          spectators: 1,
          inVoice: 2,
          status: 'open',
          locked: false,
          createdAt: 1,
        },
      ],
    }
    expect(ServerFrameSchema.safeParse(list).success).toBe(true)
    expect(ServerFrameSchema.safeParse({ ...list, room: ROOM }).success).toBe(false)
  })

  it('a profile change is a voice feed event, with the channel the user is in or null', () => {
    const event = {
      v: 1,
      type: 'profile.updated',
      guildId: '100000000000000001',
      channelId: null,
      userId: USER,
      feedSeq: 9,
      receivedAt: 1,
      profile: { username: 'ada', globalName: 'Ada', avatar: 'a_0123456789abcdef0123456789abcdef' },
    }
    expect(VoiceEventSchema.safeParse(event).success).toBe(true)
    expect(VoiceEventSchema.safeParse({ ...event, channelId: '200000000000000001' }).success).toBe(
      true,
    )
    expect(VoiceEventSchema.safeParse({ ...event, profile: { username: '' } }).success).toBe(false)
  })
})
