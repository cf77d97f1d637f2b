import { MAX_SPECTATORS, ROOM_CODE_ALPHABET } from '@repo/discord-integration/contracts'
import { describe, expect, it } from 'vitest'
import { newRoomCode, uniqueRoomCode } from '../../src/features/rooms/room-codes'
import type { RoomRecord } from '../../src/features/rooms/room-store'
import {
  freeHeldSeat,
  nextHost,
  removePlayer,
  setLocked,
  takeSeat,
  transferHost,
  updateProfile,
} from '../../src/features/rooms/seat-rules'
import {
  addSpectator,
  removeSpectator,
  spectatorFrom,
} from '../../src/features/rooms/spectator-rules'
import { roomRecord } from './room-fixtures'
import { player } from './room-store-contract'

const seated = (count: number, overrides: Partial<RoomRecord> = {}) => {
  const players = Array.from({ length: count }, (_, i) => player(i + 1, i + 1))
  return roomRecord({ players, ownerId: players[0]?.userId ?? '', ...overrides })
}
const host = player(1).userId
const spectator = (n: number) => spectatorFrom({ ...player(n), userId: player(n).userId }, 50)

describe('lock', () => {
  it('a locked room takes no new player, but a seated one coming back is not new', () => {
    const room = seated(2, { locked: true })
    expect(takeSeat(player(9))(room)).toEqual({ result: 'locked' })
    expect(takeSeat(player(2))(room)).toEqual({ result: 'already' })
    expect(takeSeat(player(9))({ ...room, locked: false }).result).toBe('added')
  })

  it('only the host locks and unlocks; the same state twice writes nothing', () => {
    const room = seated(2)
    const locked = setLocked(host, true)(room)
    expect(locked.next?.locked).toBe(true)
    expect(setLocked(player(2).userId, true)(room)).toEqual({
      result: { ok: false, reason: 'not_host' },
    })
    expect(setLocked(host, false)(room).next).toBeUndefined()
    expect(setLocked(host, true)(null).result).toEqual({ ok: false, reason: 'missing' })
  })
})

describe('host handover', () => {
  it('the host hands the room to another player, never to a spectator or themself', () => {
    const room = seated(3, { spectators: [spectator(7)] })
    expect(transferHost(host, player(3).userId)(room).next?.ownerId).toBe(player(3).userId)
    expect(transferHost(host, player(7).userId)(room).result).toEqual({
      ok: false,
      reason: 'not_a_player',
    })
    expect(transferHost(host, host)(room).result).toEqual({ ok: false, reason: 'self' })
    expect(transferHost(player(2).userId, player(3).userId)(room).result).toEqual({
      ok: false,
      reason: 'not_host',
    })
  })

  it('the next host is the longest-seated player who is here, else the longest-seated', () => {
    const [a, b, c] = [player(1, 1), player(2, 2), player(3, 3)]
    expect(nextHost([a, b, c])).toBe(a.userId)
    expect(nextHost([{ ...a, heldUntil: 9 }, b, c])).toBe(b.userId)
    expect(
      nextHost([
        { ...a, heldUntil: 9 },
        { ...b, heldUntil: 9 },
      ]),
    ).toBe(a.userId)
    expect(nextHost([])).toBeNull()
  })

  it('the host leaving on purpose skips a dropped player for one who is here', () => {
    const room = seated(3)
    room.players[1] = { ...(room.players[1] ?? player(2)), heldUntil: 99 }
    expect(removePlayer(host)(room).next?.ownerId).toBe(player(3).userId)
  })
})

describe('freeing a held seat early', () => {
  it('the host frees a dropped player’s seat; not one who is here, not without being host', () => {
    const room = seated(3)
    room.players[2] = { ...(room.players[2] ?? player(3)), heldUntil: 99 }
    const freed = freeHeldSeat(host, player(3).userId)(room)
    expect(freed.next?.players.map((p) => p.userId)).toEqual([host, player(2).userId])
    expect(freeHeldSeat(host, player(2).userId)(room).result).toEqual({
      ok: false,
      reason: 'not_dropped',
    })
    expect(freeHeldSeat(host, player(8).userId)(room).result).toEqual({
      ok: false,
      reason: 'not_a_player',
    })
    expect(freeHeldSeat(player(2).userId, player(3).userId)(room).result).toMatchObject({
      ok: false,
      reason: 'not_host',
    })
  })
})

describe('spectators', () => {
  it('watch without a seat, at most MAX_SPECTATORS, whatever the lock or the seats', () => {
    let room = seated(4, { locked: true })
    for (let n = 10; n < 10 + MAX_SPECTATORS; n++) {
      const step = addSpectator(spectator(n))(room)
      expect(step.result).toBe('added')
      room = step.next ?? room
    }
    expect(room.players).toHaveLength(4)
    expect(addSpectator(spectator(30))(room)).toEqual({ result: 'full' })
    expect(addSpectator(spectator(10))(room)).toEqual({ result: 'already' })
    expect(addSpectator(spectator(1))(room)).toEqual({ result: 'player' })
    expect(addSpectator(spectator(1))(null)).toEqual({ result: 'missing' })
  })

  it('a spectator who takes a seat stops spectating; one who leaves is gone', () => {
    const room = seated(2, { spectators: [spectator(7), spectator(8)] })
    const joined = takeSeat(player(7))(room)
    expect(joined.next?.players.map((p) => p.userId)).toContain(player(7).userId)
    expect(joined.next?.spectators.map((s) => s.userId)).toEqual([player(8).userId])
    const left = removeSpectator(player(8).userId)(room)
    expect(left.result !== 'absent' && left.result?.spectators.map((s) => s.userId)).toEqual([
      player(7).userId,
    ])
    expect(removeSpectator(player(9).userId)(room)).toEqual({ result: 'absent' })
  })
})

describe('profiles', () => {
  it('a new display name reaches the seat and the spectator place; an unchanged one writes nothing', () => {
    const room = seated(2, { spectators: [spectator(7)] })
    const profile = { username: 'p2', globalName: 'Renamed', avatar: null }
    const renamed = updateProfile(player(2).userId, profile)(room)
    expect(renamed.next?.players[1]).toMatchObject({ globalName: 'Renamed', joinedAt: 2 })
    expect(renamed.next?.players[0]).toBe(room.players[0])
    const watcher = updateProfile(player(7).userId, { ...profile, username: 'p7' })(room)
    expect(watcher.next?.spectators[0]?.globalName).toBe('Renamed')
    expect(
      updateProfile(player(2).userId, { username: 'p2', globalName: null, avatar: null })(room),
    ).toEqual({ result: room })
    expect(updateProfile(player(9).userId, profile)(room).next).toBeUndefined()
  })
})

describe('room codes', () => {
  it('six characters of the alphabet, drawn from the random source', () => {
    let i = 0
    const code = newRoomCode(() => i++ % ROOM_CODE_ALPHABET.length)
    expect(code).toBe(ROOM_CODE_ALPHABET.slice(0, 6))
    expect(newRoomCode((n) => n - 1)).toBe(ROOM_CODE_ALPHABET.at(-1)?.repeat(6))
  })

  it('draws again when the code is taken', () => {
    const draws = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    const taken = new Set([ROOM_CODE_ALPHABET[0]?.repeat(6)])
    expect(
      uniqueRoomCode(
        () => draws.shift() ?? 0,
        (c) => taken.has(c),
      ),
    ).toBe(ROOM_CODE_ALPHABET[1]?.repeat(6))
  })
})
