import { describe, expect, it } from 'vitest'
import type { RoomRecord } from '../../src/features/rooms/room-store'
import { playerFrom, removePlayer, takeSeat } from '../../src/features/rooms/seat-rules'
import { roomRecord } from './room-fixtures'
import { player } from './room-store-contract'

const seated = (count: number, overrides: Partial<RoomRecord> = {}) => {
  const players = Array.from({ length: count }, (_, i) => player(i + 1, i + 1))
  return roomRecord({ players, ownerId: players[0]?.userId ?? '', ...overrides })
}

describe('seat rules', () => {
  it('a player is the user’s public profile and the time they sat down, never their token', () => {
    const actor = {
      userId: '500000000000000042',
      username: 'ada',
      globalName: 'Ada',
      avatar: 'abc',
      accessToken: 'secret-oauth-token',
    }
    expect(playerFrom(actor, 1234)).toEqual({
      userId: actor.userId,
      username: 'ada',
      globalName: 'Ada',
      avatar: 'abc',
      joinedAt: 1234,
    })
  })

  it('takes the next seat, in join order, and counts it as activity', () => {
    const room = seated(2, { lastActivityAt: 5 })
    const newcomer = player(9, 700)
    const { next, result } = takeSeat(newcomer)(room)
    expect(result).toBe('added')
    expect(next?.players).toEqual([...room.players, newcomer])
    expect(next?.lastActivityAt).toBe(700)
    expect(room.players).toHaveLength(2)
  })

  it('four seats at most; a seated player joining again changes nothing; no room, no seat', () => {
    expect(takeSeat(player(9))(seated(4))).toEqual({ result: 'full' })
    expect(takeSeat(player(9))(seated(3)).result).toBe('added')
    expect(takeSeat({ ...player(2), joinedAt: 99 })(seated(4))).toEqual({ result: 'already' })
    expect(takeSeat({ ...player(2), joinedAt: 99 })(seated(2))).toEqual({ result: 'already' })
    expect(takeSeat(player(9))(null)).toEqual({ result: 'missing' })
    expect(takeSeat(player(9), 2)(seated(2))).toEqual({ result: 'full' })
  })

  it('the owner leaving hands the room to the longest-seated player; a guest leaving does not', () => {
    const room = seated(3)
    const afterOwner = removePlayer(player(1).userId)(room)
    expect(afterOwner.next?.ownerId).toBe(player(2).userId)
    expect(afterOwner.next?.players.map((p) => p.userId)).toEqual([
      player(2).userId,
      player(3).userId,
    ])
    expect(afterOwner.result).toBe(afterOwner.next)
    const afterGuest = removePlayer(player(3).userId)(room)
    expect(afterGuest.next?.ownerId).toBe(player(1).userId)
    expect(afterGuest.next?.players).toHaveLength(2)
    // The last player leaving keeps the owner (the room is closed, not handed over).
    expect(removePlayer(player(1).userId)(seated(1)).next?.ownerId).toBe(player(1).userId)
    expect(removePlayer('1')(null)).toEqual({ result: null })
  })
})
