import { MAX_PLAYERS, type Player } from '@repo/discord-integration/contracts'
import type { SessionUser } from '../../server/ports'
import type { Mutation, RoomRecord } from './room-store'

/**
 * The seat rules of a room, as pure store mutations: hand one to `RoomStore.mutate`, which runs
 * it atomically (and, for Redis, again on a conflicting write, so it must stay pure).
 */

/** The user as a player seated at `now`. */
export function playerFrom(user: SessionUser, now: number): Player {
  return {
    userId: user.userId,
    username: user.username,
    globalName: user.globalName,
    avatar: user.avatar,
    joinedAt: now,
  }
}

/** What taking a seat did: `already` when the user is seated (nothing changes). */
export type TakeSeatResult = 'added' | 'already' | 'full' | 'missing'

/**
 * Seats `player` at the end of the room (seat order is join order). A seated player is a no-op;
 * a room with `max` players is full. Taking a seat counts as activity in the room.
 */
export function takeSeat(
  player: Player,
  max = MAX_PLAYERS,
): (room: RoomRecord | null) => Mutation<TakeSeatResult> {
  return (room) => {
    if (!room) return { result: 'missing' }
    if (room.players.some((p) => p.userId === player.userId)) return { result: 'already' }
    if (room.players.length >= max) return { result: 'full' }
    return {
      next: { ...room, players: [...room.players, player], lastActivityAt: player.joinedAt },
      result: 'added',
    }
  }
}

/**
 * Frees the user's seat. When the owner leaves, the longest-seated remaining player becomes the
 * owner. Returns the room as written, or null for an unknown room (nothing is written).
 */
export function removePlayer(
  userId: string,
): (room: RoomRecord | null) => Mutation<RoomRecord | null> {
  return (room) => {
    if (!room) return { result: null }
    const players = room.players.filter((p) => p.userId !== userId)
    const ownerId = room.ownerId === userId ? (players[0]?.userId ?? room.ownerId) : room.ownerId
    const next = { ...room, players, ownerId }
    return { next, result: next }
  }
}
