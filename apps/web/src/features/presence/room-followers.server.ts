import type { RoomSummary } from '@repo/discord-integration/contracts'
import type { RoomDirectory, VoicePresence } from '../../server/ports'
import type { PresenceSocket } from './presence-socket'
import { roomsListFrame } from './server-frames'
import type { SocketRegistry } from './socket-registry.server'

/**
 * Sockets that follow their user's own rooms (`rooms.follow`, the home page's "Your rooms"): a
 * `rooms.list` when they start, and again whenever one of the user's rooms is created, closed,
 * joined or left, on any node (the room directory follows the store everywhere). Node-local and
 * unnumbered: nothing goes through the bus, and a list is the whole truth, so a reconnecting page
 * just follows again. The live seat and voice counts come from the rooms' own streams, which the
 * page subscribes to in `summary` mode; the counts in the list are those of when it was sent.
 */
export class RoomFollowers {
  readonly #byUser = new Map<string, Set<PresenceSocket>>()
  readonly #rooms: RoomDirectory
  readonly #voice: Pick<VoicePresence, 'channelMembers'>
  readonly #sockets: SocketRegistry
  readonly #now: () => number
  readonly #unwatch: () => void

  constructor(deps: {
    rooms: RoomDirectory
    voice: Pick<VoicePresence, 'channelMembers'>
    sockets: SocketRegistry
    now: () => number
  }) {
    this.#rooms = deps.rooms
    this.#voice = deps.voice
    this.#sockets = deps.sockets
    this.#now = deps.now
    this.#unwatch =
      deps.rooms.onUserRoomsChange?.((userIds) => {
        for (const userId of userIds) {
          for (const socket of this.#byUser.get(userId) ?? []) this.#send(socket)
        }
      }) ?? (() => {})
  }

  follow(socket: PresenceSocket): void {
    if (!socket.following) {
      socket.following = true
      let mine = this.#byUser.get(socket.user.userId)
      if (!mine) {
        mine = new Set()
        this.#byUser.set(socket.user.userId, mine)
      }
      mine.add(socket)
    }
    // Always answered, even when the list did not change (the page asked for it).
    socket.roomsSent = null
    this.#send(socket)
  }

  unfollow(socket: PresenceSocket): void {
    if (!socket.following) return
    socket.following = false
    socket.roomsSent = null
    const mine = this.#byUser.get(socket.user.userId)
    mine?.delete(socket)
    if (mine?.size === 0) this.#byUser.delete(socket.user.userId)
  }

  stop(): void {
    this.#unwatch()
  }

  /** The user's rooms as their home page lists them: hosted or seated, newest first. */
  list(userId: string): RoomSummary[] {
    return (this.#rooms.roomsOfUser?.(userId) ?? [])
      .filter((room) => room.role !== 'spectator')
      .map((room) => ({
        ...room.summary,
        inVoice: this.#voice.channelMembers(room.channelId).length,
      }))
  }

  #send(socket: PresenceSocket): void {
    const rooms = this.list(socket.user.userId)
    // inVoice is left out of the comparison: the rooms' streams keep it live.
    const key = JSON.stringify(rooms.map(({ inVoice: _live, ...room }) => room))
    if (socket.roomsSent === key) return
    socket.roomsSent = key
    this.#sockets.send(socket, roomsListFrame(this.#now(), rooms))
  }
}
