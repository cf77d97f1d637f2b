import { MAX_SPECTATORS, type Spectator } from '@repo/discord-integration/contracts'
import type { SessionUser } from '../../server/ports'
import type { Mutation, RoomRecord } from './room-store'
import { playerFrom } from './seat-rules'

/**
 * The spectator rules, as pure store mutations (see seat-rules.ts). A spectator watches the room
 * live and listens in voice, but takes no seat: the lock and the four seats do not apply to them,
 * a limit of their own does (MAX_SPECTATORS).
 */

/** The user as a spectator since `now` (the same profile fields as a seated player). */
export function spectatorFrom(user: SessionUser, now: number): Spectator {
  return playerFrom(user, now)
}

/** What watching did: `player` when the user has a seat (they already see everything). */
export type WatchResult = 'added' | 'already' | 'player' | 'full' | 'missing'

/** Adds a spectator, unless they are one, sit at the table, or the spectator places are taken. */
export function addSpectator(
  spectator: Spectator,
  max = MAX_SPECTATORS,
): (room: RoomRecord | null) => Mutation<WatchResult> {
  return (room) => {
    if (!room) return { result: 'missing' }
    if (room.players.some((p) => p.userId === spectator.userId)) return { result: 'player' }
    const spectators = room.spectators ?? []
    if (spectators.some((s) => s.userId === spectator.userId)) return { result: 'already' }
    if (spectators.length >= max) return { result: 'full' }
    return { next: { ...room, spectators: [...spectators, spectator] }, result: 'added' }
  }
}

/** Removes a spectator (they stopped watching, or the host removed them); `absent` if not one. */
export function removeSpectator(
  userId: string,
): (room: RoomRecord | null) => Mutation<RoomRecord | 'absent' | null> {
  return (room) => {
    if (!room) return { result: null }
    const spectators = room.spectators ?? []
    if (!spectators.some((s) => s.userId === userId)) return { result: 'absent' }
    const next = { ...room, spectators: spectators.filter((s) => s.userId !== userId) }
    return { next, result: next }
  }
}
