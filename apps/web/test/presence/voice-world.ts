import type {
  Profile,
  RoomState,
  VoiceEvent,
  VoiceMember,
} from '@repo/discord-integration/contracts'
import type {
  RoomAccess,
  RoomDirectory,
  SessionUser,
  UserRoom,
  VoiceEventOrigin,
  VoicePresence,
} from '../../src/server/ports'
import { GUILD, member } from './fixtures'

/**
 * A small, real VoicePresence: it keeps who is in which channel and emits the same events a
 * gateway feed does (state first, then listeners), so tests can drive voice activity directly.
 *
 * With `stream`, it stands for several nodes' mirrors of one voice stream: every event carries
 * the same origin (`stream`, the epoch and an entry id) on every service it feeds, and `resync`
 * plays a snapshot reload (its changes marked `resync`, then the onResync listeners).
 */
export class VoiceWorld implements VoicePresence {
  readonly #members = new Map<string, VoiceMember>()
  readonly #listeners = new Set<(event: VoiceEvent, origin?: VoiceEventOrigin) => void>()
  readonly #resyncListeners = new Set<() => void>()
  readonly #stream: { epoch: string; time?: () => number } | null
  #resyncing = false
  #feedSeq = 0

  /** `stream.time`: the clock of the entry ids (`ms-seq`), Date.now by default. */
  constructor(options: { stream?: { epoch: string; time?: () => number } } = {}) {
    this.#stream = options.stream ?? null
  }

  subscribe(listener: (event: VoiceEvent, origin?: VoiceEventOrigin) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
  onResync(listener: () => void): () => void {
    this.#resyncListeners.add(listener)
    return () => this.#resyncListeners.delete(listener)
  }

  /**
   * A mirror's snapshot reload: the changes `apply` makes are emitted as local `resync`
   * differences (no stream entry), then the onResync listeners are called.
   */
  resync(apply: (world: VoiceWorld) => void): void {
    this.#resyncing = true
    try {
      apply(this)
    } finally {
      this.#resyncing = false
    }
    for (const listener of this.#resyncListeners) listener()
  }
  channelMembers(channelId: string): VoiceMember[] {
    return [...this.#members.values()].filter((m) => m.channelId === channelId)
  }
  memberChannel(guildId: string, userId: string): string | null {
    return guildId === GUILD ? (this.#members.get(userId)?.channelId ?? null) : null
  }
  get listenerCount(): number {
    return this.#listeners.size
  }

  /** The user joins `channelId` (a move if they were elsewhere: left then joined, like the feed). */
  join(userId: string, channelId: string, receivedAt = Date.now()) {
    const previous = this.#members.get(userId)
    if (previous?.channelId === channelId) return
    if (previous) this.leave(userId, 'moved', receivedAt)
    const next = member(userId, channelId)
    this.#members.set(userId, next)
    this.#emit({ type: 'voice.joined', member: next, userId, channelId, receivedAt })
  }
  leave(userId: string, reason: 'left' | 'moved' = 'left', receivedAt = Date.now()) {
    const previous = this.#members.get(userId)
    if (!previous) return
    this.#members.delete(userId)
    this.#emit({ type: 'voice.left', userId, channelId: previous.channelId, reason, receivedAt })
  }
  toggleMute(userId: string) {
    const previous = this.#members.get(userId)
    if (!previous) return
    const next = { ...previous, selfMute: !previous.selfMute }
    this.#members.set(userId, next)
    this.#emit({
      type: 'voice.updated',
      member: next,
      changed: ['selfMute'],
      userId,
      channelId: next.channelId,
      receivedAt: Date.now(),
    })
  }

  /** The user's display data changes (profile.updated; their member in voice follows). */
  rename(userId: string, profile: Profile) {
    const previous = this.#members.get(userId)
    if (previous) this.#members.set(userId, { ...previous, ...profile })
    const event = {
      v: 1,
      guildId: GUILD,
      feedSeq: ++this.#feedSeq,
      type: 'profile.updated',
      userId,
      channelId: previous?.channelId ?? null,
      receivedAt: Date.now(),
      profile,
    } as VoiceEvent
    for (const listener of this.#listeners) listener(event)
  }

  #emit(
    partial:
      | {
          type: 'voice.joined'
          member: VoiceMember
          userId: string
          channelId: string
          receivedAt: number
        }
      | {
          type: 'voice.left'
          reason: 'left' | 'moved'
          userId: string
          channelId: string
          receivedAt: number
        }
      | {
          type: 'voice.updated'
          member: VoiceMember
          changed: ['selfMute']
          userId: string
          channelId: string
          receivedAt: number
        },
  ) {
    const event = { v: 1, guildId: GUILD, feedSeq: ++this.#feedSeq, ...partial } as VoiceEvent
    const origin: VoiceEventOrigin | undefined = this.#stream
      ? {
          kind: this.#resyncing ? 'resync' : 'stream',
          epoch: this.#stream.epoch,
          id: `${(this.#stream.time ?? Date.now)()}-${event.feedSeq}`,
        }
      : undefined
    for (const listener of this.#listeners) listener(event, origin)
  }
}

/** A small, real RoomDirectory over a map of rooms. */
export class RoomTable implements RoomDirectory {
  readonly rooms = new Map<string, { channelId: string; state: RoomState }>()
  readonly #changes = new Set<(userIds: readonly string[]) => void>()

  add(roomId: string, channelId: string, state: RoomState) {
    const before = this.rooms.get(roomId)
    this.rooms.set(roomId, { channelId, state })
    this.#announce(before?.state, state)
  }
  remove(roomId: string) {
    const before = this.rooms.get(roomId)
    this.rooms.delete(roomId)
    this.#announce(before?.state, undefined)
  }
  #announce(before: RoomState | undefined, after: RoomState | undefined) {
    const ids = (s?: RoomState) => [
      ...(s?.players.map((p) => p.userId) ?? []),
      ...(s?.spectators?.map((p) => p.userId) ?? []),
    ]
    const users = [...new Set([...ids(before), ...ids(after)])]
    for (const listener of this.#changes) listener(users)
  }
  onUserRoomsChange(listener: (userIds: readonly string[]) => void): () => void {
    this.#changes.add(listener)
    return () => this.#changes.delete(listener)
  }
  roomsOfUser(userId: string): UserRoom[] {
    const out: UserRoom[] = []
    for (const [id, { channelId, state }] of this.rooms) {
      const seated = state.players.some((p) => p.userId === userId)
      const watching = state.spectators?.some((p) => p.userId === userId) ?? false
      if (!seated && !watching) continue
      const role = !seated ? 'spectator' : state.ownerId === userId ? 'host' : 'player'
      out.push({
        role,
        channelId,
        summary: {
          id,
          name: `Room ${id}`,
          role: role === 'host' ? 'host' : 'player',
          players: state.players.length,
          maxPlayers: 4,
          spectators: state.spectators?.length ?? 0,
          inVoice: 0,
          status: state.status,
          locked: state.locked ?? false,
          createdAt: 1,
        },
      })
    }
    return out
  }
  roomForChannel(channelId: string): string | null {
    for (const [roomId, room] of this.rooms) if (room.channelId === channelId) return roomId
    return null
  }
  roomAccess(roomId: string, userId: string): RoomAccess | null {
    const room = this.rooms.get(roomId)
    if (!room) return null
    const { state } = room
    const member =
      state.ownerId === userId ||
      state.players.some((p) => p.userId === userId) ||
      (state.spectators?.some((p) => p.userId === userId) ?? false)
    if (!member) return null
    return { channelId: room.channelId, state }
  }
}

/** Test sessions: the cookie `session=<userId>` signs that user in. */
export async function cookieAuth(request: Request): Promise<SessionUser | null> {
  const match = /(?:^|;\s*)session=(\d{17,20})/.exec(request.headers.get('cookie') ?? '')
  if (!match?.[1]) return null
  return { userId: match[1], username: `u${match[1].slice(-4)}`, globalName: null, avatar: null }
}
