import { randomUUID } from 'node:crypto'
import type { RoomFrameBody } from '../../server/ports'
import {
  type BusFrame,
  classifyResume,
  DEFAULT_HISTORY_LIMITS,
  type EventBus,
  type HistoryLimits,
  type HistoryResult,
  type StreamPosition,
} from './event-bus'
import { FrameHistory } from './frame-history'
import { stampFrame } from './frame-stamp'
import { PresenceError } from './presence-error'

/** Options of {@link createMemoryEventBus}. */
export interface MemoryEventBusOptions {
  history?: Partial<HistoryLimits>
  /** Clock for `ts` and history age. @defaultValue Date.now */
  now?: () => number
}

interface RoomStream {
  seq: number
  readonly history: FrameHistory
  readonly listeners: Set<(frame: BusFrame) => void>
}

/**
 * The default, single-process event bus. Publishing is synchronous under the hood: the frame is
 * stamped, stored and delivered before `publish` returns its (already settled) promise, so a
 * position read and a state read in the same tick are consistent with each other.
 * The epoch is random per instance: a restarted process never replays another life's seqs.
 */
export function createMemoryEventBus(options: MemoryEventBusOptions = {}): EventBus {
  const limits = { ...DEFAULT_HISTORY_LIMITS, ...options.history }
  const now = options.now ?? Date.now
  const epoch = randomUUID()
  const rooms = new Map<string, RoomStream>()
  let closed = false

  const stream = (roomId: string): RoomStream => {
    let room = rooms.get(roomId)
    if (!room) {
      room = { seq: 0, history: new FrameHistory(), listeners: new Set() }
      rooms.set(roomId, room)
    }
    return room
  }

  const prune = (room: RoomStream) => room.history.prune(limits.maxFrames, now() - limits.maxAgeMs)

  // Forget idle rooms: once a room has no listener and nothing left in its history window, its
  // entry goes. A later `since` for it is then "ahead" of the stream and gets a snapshot.
  const sweep = setInterval(() => {
    for (const [roomId, room] of rooms) {
      prune(room)
      if (room.listeners.size === 0 && room.history.length === 0) rooms.delete(roomId)
    }
  }, limits.maxAgeMs)
  sweep.unref?.()

  return {
    publish(roomId: string, body: RoomFrameBody) {
      if (closed) return Promise.reject(new PresenceError('BUS_CLOSED', 'the event bus is closed'))
      const room = stream(roomId)
      const ts = now()
      const seq = ++room.seq
      const frame = stampFrame(roomId, body, ts, seq)
      // One flat string per frame: it is written to every subscriber and kept in the history.
      const text = JSON.stringify(frame)
      const busFrame: BusFrame = { frame, text, epoch }
      room.history.push(seq, frame.type, ts, text)
      prune(room)
      for (const listener of room.listeners) {
        try {
          listener(busFrame)
        } catch {
          // A failing subscriber must not stop delivery to the others (the service logs its own errors).
        }
      }
      return Promise.resolve(busFrame)
    },
    subscribe(roomId, listener) {
      const room = stream(roomId)
      room.listeners.add(listener)
      return {
        ready: Promise.resolve(),
        unsubscribe: () => {
          room.listeners.delete(listener)
        },
      }
    },
    position(roomId): Promise<StreamPosition> {
      return Promise.resolve({ epoch, seq: rooms.get(roomId)?.seq ?? 0 })
    },
    history(roomId, since, clientEpoch): Promise<HistoryResult> {
      const room = rooms.get(roomId)
      const position = room?.seq ?? 0
      if (clientEpoch !== undefined && clientEpoch !== epoch) {
        return Promise.resolve({ ok: false, epoch, position, reason: 'epoch' })
      }
      if (room) prune(room)
      const oldest = room?.history.oldestSeq ?? 0
      const verdict = classifyResume(since, position, oldest)
      if (verdict !== 'ok') return Promise.resolve({ ok: false, epoch, position, reason: verdict })
      const frames = room ? room.history.since(since) : []
      return Promise.resolve({ ok: true, epoch, position, frames })
    },
    close() {
      closed = true
      clearInterval(sweep)
      for (const room of rooms.values()) room.listeners.clear()
      return Promise.resolve()
    },
  }
}
