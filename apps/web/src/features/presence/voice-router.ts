import type { VoiceEvent } from '@repo/discord-integration/contracts'
import type { RoomDirectory, RoomFrameBody } from '../../server/ports'

/** A frame for one room's stream, produced from a voice event. */
export interface RoutedFrame {
  roomId: string
  body: RoomFrameBody
}

/**
 * Turns voice feed events into room stream frames. Events for channels that belong to no open
 * room are dropped (presence of other channels never leaves the server). It remembers the last
 * channel it saw per user so that a move reported as a single `voice.joined` still produces a
 * `voice.left` on the old room, and a late `voice.left` for that old channel is not doubled.
 */
export class VoiceRouter {
  readonly #lastChannel = new Map<string, string>()

  constructor(private readonly rooms: Pick<RoomDirectory, 'roomForChannel'>) {}

  route(event: VoiceEvent): RoutedFrame[] {
    // A profile change is not a room stream frame: the presence service tells its own sockets.
    if (event.type === 'profile.updated') return []
    const out: RoutedFrame[] = []
    const { userId, channelId, receivedAt } = event
    switch (event.type) {
      case 'voice.joined': {
        const previous = this.#lastChannel.get(userId)
        if (previous !== undefined && previous !== channelId) {
          this.#pushMovedOut(out, previous, userId, receivedAt)
        }
        this.#lastChannel.set(userId, channelId)
        this.#push(out, channelId, { type: 'voice.joined', member: event.member, receivedAt })
        break
      }
      case 'voice.left': {
        const previous = this.#lastChannel.get(userId)
        // Already reported as left when the user appeared in another channel.
        if (previous !== undefined && previous !== channelId) break
        this.#lastChannel.delete(userId)
        this.#push(out, channelId, {
          type: 'voice.left',
          userId,
          channelId,
          reason: event.reason,
          receivedAt,
        })
        break
      }
      case 'voice.updated': {
        const previous = this.#lastChannel.get(userId)
        this.#lastChannel.set(userId, channelId)
        if (previous !== undefined && previous !== channelId) {
          // The move itself was never reported: report it as one.
          this.#pushMovedOut(out, previous, userId, receivedAt)
          this.#push(out, channelId, { type: 'voice.joined', member: event.member, receivedAt })
          break
        }
        this.#push(out, channelId, {
          type: 'voice.updated',
          member: event.member,
          changed: event.changed,
          receivedAt,
        })
        break
      }
    }
    return out
  }

  /** A leave from the channel the user moved away from. */
  #pushMovedOut(out: RoutedFrame[], channelId: string, userId: string, receivedAt: number) {
    this.#push(out, channelId, {
      type: 'voice.left',
      userId,
      channelId,
      reason: 'moved',
      receivedAt,
    })
  }

  #push(out: RoutedFrame[], channelId: string, body: RoomFrameBody) {
    const roomId = this.rooms.roomForChannel(channelId)
    if (roomId !== null) out.push({ roomId, body })
  }
}
