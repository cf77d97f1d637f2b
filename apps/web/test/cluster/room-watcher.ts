import type { ServerFrame, VoiceMember } from '@repo/discord-integration/contracts'
import WebSocket from 'ws'
import { PresenceClient, type SocketLike } from '../../src/features/presence/presence-client'
import type { SeededRoom, WebNode } from './cluster-world'

/** A frame as one watcher's socket received it. */
export interface ReceivedFrame {
  readonly node: string
  /** Which of the watcher's sockets (1, 2, ... in order). */
  readonly socket: number
  readonly frame: ServerFrame
}

/** A voice change as the tests compare them (a frame, or an event the traffic expects). */
export interface VoiceChange {
  readonly type: string
  readonly userId: string
  readonly channelId: string
  readonly detail: string
}

/**
 * A browser following one room: the app's own presence client (presence-client.ts: subscribe,
 * resume with `since` after a reconnect, gap repair), over a `ws` socket to the node `pick()`
 * names at each (re)connect, as a load balancer would. Every frame each socket received is kept.
 */
export class RoomWatcher {
  readonly frames: ReceivedFrame[] = []
  readonly presence: PresenceClient
  #sockets = 0
  #release: (() => void) | null = null
  node = ''

  constructor(
    readonly room: SeededRoom,
    cookie: string,
    pick: () => WebNode,
  ) {
    this.presence = new PresenceClient({
      url: 'ws://unused',
      watchNetwork: false,
      random: () => 0,
      createSocket: () => {
        const node = pick()
        const socket = ++this.#sockets
        this.node = node.name
        const ws = new WebSocket(node.wsUrl, { headers: { cookie }, origin: node.origin })
        ws.on('message', (data) => {
          const frame = JSON.parse(data.toString()) as ServerFrame
          if (frame.room === room.roomId) this.frames.push({ node: node.name, socket, frame })
        })
        ws.on('error', () => {}) // the close event follows; the client reconnects
        return ws as unknown as SocketLike
      },
    })
  }

  start(): void {
    this.#release ??= this.presence.retain(this.room.roomId)
  }

  get synced(): boolean {
    return this.presence.getStream(this.room.roomId).synced
  }

  get sockets(): number {
    return this.#sockets
  }

  /** The room's voice members as the browser shows them (`userId:muted`, sorted). */
  members(): string[] {
    return describeMembers(this.presence.getStream(this.room.roomId).members)
  }

  /** The voice frames received, in order, over every socket. */
  voiceFrames(): (VoiceChange & { seq: number; epoch?: string })[] {
    const out: (VoiceChange & { seq: number })[] = []
    for (const { frame } of this.frames) {
      if (frame.type === 'voice.joined' || frame.type === 'voice.updated') {
        out.push({
          seq: frame.seq,
          type: frame.type,
          userId: frame.member.userId,
          channelId: frame.member.channelId,
          detail: frame.type === 'voice.updated' ? frame.changed.join(',') : '',
        })
      } else if (frame.type === 'voice.left') {
        out.push({
          seq: frame.seq,
          type: frame.type,
          userId: frame.userId,
          channelId: frame.channelId,
          detail: frame.reason,
        })
      }
    }
    return out
  }

  /** The snapshots received (each with the seq it is at). */
  snapshots(): Extract<ServerFrame, { type: 'presence.snapshot' }>[] {
    return this.frames
      .map((f) => f.frame)
      .filter(
        (f): f is Extract<ServerFrame, { type: 'presence.snapshot' }> =>
          f.type === 'presence.snapshot',
      )
  }

  stop(): void {
    this.#release?.()
    this.presence.destroy()
  }
}

/** Members as `userId` or `userId:muted`, sorted (what the tests compare). */
export function describeMembers(members: readonly VoiceMember[]): string[] {
  return members.map((m) => `${m.userId}${m.selfMute ? ':muted' : ''}`).sort()
}
