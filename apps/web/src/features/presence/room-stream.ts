import type {
  Profile,
  RoomDeletedReason,
  RoomState,
  ServerFrame,
  VoiceMember,
} from '@repo/discord-integration/contracts'

/** What the browser knows of one room's live stream. Immutable: each change is a new object. */
export interface RoomStream {
  /** Stream epoch and last applied seq, sent back as `since` when resuming. */
  readonly epoch: string | null
  readonly seq: number
  /** A snapshot (or a recovered resume) has been applied on the current socket. */
  readonly synced: boolean
  readonly channelId: string | null
  readonly members: readonly VoiceMember[]
  readonly state: RoomState | null
  readonly closesAt: number | null
  readonly deleted: boolean
  /** Why the room closed (room.deleted's reason), when the stream said. */
  readonly deletedReason: RoomDeletedReason | null
  /** The server refused the subscription (not a player of this room). */
  readonly forbidden: boolean
  /** Who has the room page open (any node), sorted; null until the server said. */
  readonly viewers: readonly string[] | null
}

export const EMPTY_STREAM: RoomStream = Object.freeze({
  epoch: null,
  seq: 0,
  synced: false,
  channelId: null,
  members: Object.freeze([]) as readonly VoiceMember[],
  state: null,
  closesAt: null,
  deleted: false,
  deletedReason: null,
  forbidden: false,
  viewers: null,
})

/** The result of applying a frame: the new stream and whether a gap was detected. */
export interface ApplyResult {
  stream: RoomStream
  /** Frames were missed (seq jumped): resubscribe with `since` to repair. */
  gap: boolean
}

const upsert = (members: readonly VoiceMember[], member: VoiceMember) => {
  const rest = members.filter((m) => m.userId !== member.userId)
  return [...rest, member]
}

/** The stream with `userId`'s new display data wherever they appear (voice, seat, spectators). */
function withProfile(stream: RoomStream, userId: string, profile: Profile): RoomStream {
  const patch = <T extends { userId: string }>(list: readonly T[]): T[] =>
    list.map((m) => (m.userId === userId ? { ...m, ...profile } : m))
  const state = stream.state
  return {
    ...stream,
    members: patch(stream.members),
    state: state && {
      ...state,
      players: patch(state.players),
      ...(state.spectators ? { spectators: patch(state.spectators) } : {}),
    },
  }
}

/**
 * Applies one server frame to a room stream. Frames at or below the applied seq are ignored
 * (replays and snapshots overlap by design); joins and updates are upserts by user id, so a
 * frame already reflected in a snapshot is harmless.
 */
export function applyFrame(stream: RoomStream, frame: ServerFrame): ApplyResult {
  const ok = (next: RoomStream): ApplyResult => ({ stream: next, gap: false })
  switch (frame.type) {
    case 'pong':
    case 'rooms.list':
      return ok(stream)
    // Unnumbered frames: applied as they come, outside the sequence.
    case 'room.viewers':
      return ok({ ...stream, viewers: frame.viewers })
    case 'profile.updated':
      return ok(withProfile(stream, frame.userId, frame.profile))
    case 'error':
      return ok(frame.code === 'FORBIDDEN' ? { ...stream, forbidden: true, synced: false } : stream)
    case 'subscribed':
      return ok({
        ...stream,
        epoch: frame.epoch ?? stream.epoch,
        synced: frame.recovered,
        forbidden: false,
        viewers: frame.viewers ?? stream.viewers,
      })
    case 'presence.snapshot':
      return ok({
        ...stream,
        epoch: frame.epoch ?? stream.epoch,
        seq: frame.seq,
        synced: true,
        forbidden: false,
        channelId: frame.channelId,
        members: frame.members,
        state: frame.state,
        closesAt: frame.state.closesAt,
        viewers: frame.viewers ?? stream.viewers,
      })
    default:
      break
  }
  if (!stream.synced || frame.seq <= stream.seq) return ok(stream)
  if (frame.seq > stream.seq + 1) return { stream, gap: true }
  const next = { ...stream, seq: frame.seq }
  switch (frame.type) {
    case 'voice.joined':
    case 'voice.updated':
      return ok({ ...next, members: upsert(stream.members, frame.member) })
    case 'voice.left':
      return ok({ ...next, members: stream.members.filter((m) => m.userId !== frame.userId) })
    case 'room.updated':
      return ok({ ...next, state: frame.state, closesAt: frame.state.closesAt })
    case 'room.closing':
      return ok({ ...next, closesAt: frame.closesAt })
    case 'room.deleted':
      return ok({ ...next, deleted: true, deletedReason: frame.reason })
  }
}

/** Marks a stream as waiting for its (re)subscription on a new socket. */
export function unsynced(stream: RoomStream): RoomStream {
  return stream.synced ? { ...stream, synced: false } : stream
}
