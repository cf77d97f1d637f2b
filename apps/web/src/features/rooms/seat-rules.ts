import {
  MAX_PLAYERS,
  type Player,
  type Profile,
  type Spectator,
} from '@repo/discord-integration/contracts'
import type { SessionUser } from '../../server/ports'
import type { Mutation, RoomRecord } from './room-store'

/**
 * The seat rules of a room, as pure store mutations: hand one to `RoomStore.mutate`, which runs
 * it atomically (and, for Redis, again on a conflicting write, so it must stay pure). Who may ask
 * for them (the host, a player) is the commands' to check; these decide what the room becomes.
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
export type TakeSeatResult = 'added' | 'already' | 'full' | 'locked' | 'missing'

/**
 * Seats `player` at the end of the room (seat order is join order). A seated player is a no-op
 * (even in a locked room: they are not new); a locked room takes nobody new; a room with `max`
 * players is full. A spectator who takes a seat stops spectating. Taking a seat counts as
 * activity in the room.
 */
export function takeSeat(
  player: Player,
  max = MAX_PLAYERS,
): (room: RoomRecord | null) => Mutation<TakeSeatResult> {
  return (room) => {
    if (!room) return { result: 'missing' }
    if (room.players.some((p) => p.userId === player.userId)) return { result: 'already' }
    if (room.locked) return { result: 'locked' }
    if (room.players.length >= max) return { result: 'full' }
    const spectators = room.spectators ?? []
    return {
      next: {
        ...room,
        players: [...room.players, player],
        spectators: spectators.filter((s) => s.userId !== player.userId),
        lastActivityAt: player.joinedAt,
      },
      result: 'added',
    }
  }
}

/**
 * Who becomes host when the host goes: the longest-seated player who is here (not dropped), or
 * the longest-seated of all when everyone is dropped; null for an empty room.
 */
export function nextHost(players: readonly Player[]): string | null {
  const here = players.find((p) => p.heldUntil === undefined)
  return (here ?? players[0])?.userId ?? null
}

/** `players` without `leaving`, and who owns the room after that. */
function without(room: RoomRecord, leaving: ReadonlySet<string>): RoomRecord {
  const players = room.players.filter((p) => !leaving.has(p.userId))
  const ownerId = leaving.has(room.ownerId) ? (nextHost(players) ?? room.ownerId) : room.ownerId
  return { ...room, players, ownerId }
}

/**
 * Frees the user's seat. When the owner leaves, the longest-seated remaining player (one who is
 * here, if any) becomes the owner. Returns the room as written, or null for an unknown room
 * (nothing is written).
 */
export function removePlayer(
  userId: string,
): (room: RoomRecord | null) => Mutation<RoomRecord | null> {
  return (room) => {
    if (!room) return { result: null }
    const next = without(room, new Set([userId]))
    return { next, result: next }
  }
}

/** What a host's action on a room did. */
export type HostActionResult =
  | { ok: true; room: RoomRecord }
  | { ok: false; reason: 'missing' | 'not_host' | 'not_a_player' | 'not_dropped' | 'self' }

/** Applies `change` when `hostId` owns the room; otherwise says why not (nothing is written). */
function byHost(
  hostId: string,
  change: (room: RoomRecord) => RoomRecord | Exclude<HostActionResult, { ok: true }>['reason'],
): (room: RoomRecord | null) => Mutation<HostActionResult> {
  return (room) => {
    if (!room) return { result: { ok: false, reason: 'missing' } }
    if (room.ownerId !== hostId) return { result: { ok: false, reason: 'not_host' } }
    const next = change(room)
    if (typeof next === 'string') return { result: { ok: false, reason: next } }
    return next === room
      ? { result: { ok: true, room } }
      : { next, result: { ok: true, room: next } }
  }
}

/** The host hands the room to another player (not a spectator). */
export function transferHost(hostId: string, toUserId: string) {
  return byHost(hostId, (room) => {
    if (toUserId === hostId) return 'self'
    if (!room.players.some((p) => p.userId === toUserId)) return 'not_a_player'
    return { ...room, ownerId: toUserId }
  })
}

/** The host locks (no new players by link or code) or unlocks the room. */
export function setLocked(hostId: string, locked: boolean) {
  return byHost(hostId, (room) => (room.locked === locked ? room : { ...room, locked }))
}

/**
 * The host frees a dropped player's seat before the grace period ends. Only a dropped seat: a
 * player who is here is removed with a kick.
 */
export function freeHeldSeat(hostId: string, userId: string) {
  return byHost(hostId, (room) => {
    const player = room.players.find((p) => p.userId === userId)
    if (!player) return 'not_a_player'
    if (player.heldUntil === undefined) return 'not_dropped'
    return without(room, new Set([userId]))
  })
}

/**
 * A user's new Discord display data, wherever they appear in the room (seat or spectator). The
 * room itself when nothing changes, so a store writes nothing and nobody is told twice.
 */
export function updateProfile(userId: string, profile: Profile) {
  const apply = <T extends Player | Spectator>(member: T): T =>
    member.userId === userId &&
    (member.username !== profile.username ||
      member.globalName !== profile.globalName ||
      member.avatar !== profile.avatar)
      ? { ...member, ...profile }
      : member
  return (room: RoomRecord | null): Mutation<RoomRecord | null> => {
    if (!room) return { result: null }
    const players = room.players.map(apply)
    const spectators = (room.spectators ?? []).map(apply)
    const changed =
      players.some((p, i) => p !== room.players[i]) ||
      spectators.some((s, i) => s !== room.spectators?.[i])
    if (!changed) return { result: room }
    const next = { ...room, players, spectators }
    return { next, result: next }
  }
}
