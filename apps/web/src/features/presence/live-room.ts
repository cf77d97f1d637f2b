import type {
  Player,
  RoomDeletedReason,
  RoomRole,
  RoomState,
  RoomStatus,
  RoomView,
  Spectator,
  VoiceMember,
} from '@repo/discord-integration/contracts'
import type { ConnectionStatus } from './presence-machine'
import type { RoomStream } from './room-stream'

/**
 * Everything a room page shows, from one client-side state: the room's live stream (snapshot,
 * frames) once it has one, the page's loader data until then. Header, seats, voice list, host
 * controls and invite state all read it, so they can never disagree.
 */
export interface LiveRoom {
  id: string
  name: string
  ownerId: string
  players: readonly Player[]
  spectators: readonly Spectator[]
  status: RoomStatus
  closesAt: number | null
  locked: boolean
  /** Changes whenever the players' links change: fetch them again. */
  linksRev: number
  /** Who is in the room's voice channel (only known from the stream). */
  members: readonly VoiceMember[]
  /** Who has the room page open; null until the stream says. */
  viewers: ReadonlySet<string> | null
  /** The stream is connected and in sync. */
  live: boolean
  /** The presence connection. */
  connection: ConnectionStatus
  deleted: boolean
  /** Why the room closed, when its stream said (room.deleted's reason). */
  deletedReason: RoomDeletedReason | null
  /** The server stopped the stream: the user is no longer in the room. */
  forbidden: boolean
  /** What the user is in the room now (host, player, spectator), or null when they are out. */
  role: RoomRole | null
}

/** The user's role in a room state. */
export function roleOf(
  state: Pick<RoomState, 'ownerId' | 'players' | 'spectators'>,
  userId: string,
): RoomRole | null {
  if (state.players.some((p) => p.userId === userId)) {
    return state.ownerId === userId ? 'host' : 'player'
  }
  return state.spectators?.some((s) => s.userId === userId) ? 'spectator' : null
}

const viewerSets = new WeakMap<readonly string[], ReadonlySet<string>>()
function asSet(viewers: readonly string[]): ReadonlySet<string> {
  let set = viewerSets.get(viewers)
  if (!set) {
    set = new Set(viewers)
    viewerSets.set(viewers, set)
  }
  return set
}

/** The live room: the stream's state over the loader's, for `userId`. */
export function liveRoom(
  initial: RoomView,
  stream: RoomStream,
  status: ConnectionStatus,
  userId: string,
): LiveRoom {
  const state = stream.state
  const base = {
    ownerId: state?.ownerId ?? initial.ownerId,
    players: state?.players ?? initial.players,
    spectators: state ? (state.spectators ?? []) : initial.spectators,
  }
  return {
    id: initial.id,
    name: initial.name,
    ...base,
    status: state?.status ?? initial.status,
    closesAt: state ? stream.closesAt : initial.closesAt,
    locked: state ? (state.locked ?? false) : initial.locked,
    linksRev: state ? (state.linksRev ?? 0) : initial.linksRev,
    members: stream.members,
    viewers: stream.viewers ? asSet(stream.viewers) : null,
    live: status === 'connected' && stream.synced,
    connection: status,
    deleted: stream.deleted,
    deletedReason: stream.deletedReason,
    forbidden: stream.forbidden,
    role: roleOf(base, userId),
  }
}

/** A user's name as Discord shows it. */
export function displayName(user: { globalName: string | null; username: string }): string {
  return user.globalName ?? user.username
}
