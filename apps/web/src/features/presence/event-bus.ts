import type { RoomEventFrame } from '@repo/discord-integration/contracts'
import type { RoomFrameBody } from '../../server/ports'

/**
 * A room stream frame as the bus delivers it: the parsed frame and its JSON text,
 * serialised exactly once when it was stamped (never once per recipient).
 */
export interface BusFrame {
  readonly frame: RoomEventFrame
  readonly text: string
  /** The room stream's epoch the frame's seq belongs to. */
  readonly epoch: string
  /** True when the publish was a duplicate (same dedupe key): this is the earlier frame, not re-sent. */
  readonly duplicate?: boolean
}

/**
 * A frame as a replay needs it: its place in the stream, its type (for metrics) and its text.
 * Histories keep only what this needs, not the parsed frame: at 1,000 events/s a two-minute
 * history is 120,000 frames, and the parsed objects would triple its heap.
 */
export interface ReplayFrame {
  readonly seq: number
  readonly type: RoomEventFrame['type']
  readonly text: string
}

/** Options of {@link EventBus.publish}. */
export interface PublishOptions {
  /**
   * Identity of what the frame reports. When several processes publish the same thing (each
   * node routes the same voice event), the Redis bus stamps and delivers only the first, for
   * two minutes. The in-memory bus (one process) ignores it.
   */
  readonly dedupeKey?: string
}

/**
 * The dedupe key of a frame routed from an entry of the guild's voice stream (several nodes):
 * the stream's epoch and the entry id are the same on every node that reads it, so every node
 * computes the same key for the same voice change, and the room stream gets it once.
 */
export function voiceDedupeKey(
  origin: { readonly epoch: string; readonly id: string },
  frameType: string,
  userId: string,
): string {
  return `${origin.epoch}:${origin.id}:${frameType}:${userId}`
}

/** What `history()` answers: the frames after `since`, or why they cannot be replayed. */
export type HistoryResult =
  | {
      readonly ok: true
      readonly epoch: string
      readonly position: number
      readonly frames: ReplayFrame[]
    }
  | {
      readonly ok: false
      readonly epoch: string
      readonly position: number
      readonly reason: 'epoch' | 'gap' | 'ahead'
    }

/** A live subscription to one room's frames. */
export interface BusSubscription {
  readonly ready: Promise<void>
  unsubscribe(): void
}

/** The current end of a room stream. */
export interface StreamPosition {
  readonly epoch: string
  /** The seq of the last frame published on the room (0 if none). */
  readonly seq: number
}

/**
 * The presence event bus: one topic per room, a monotonic sequence per room, and a bounded
 * per-room history for resume. The in-memory implementation is the default; the Redis one
 * replaces it without touching callers. Live delivery and stamping keep per-room order.
 */
export interface EventBus {
  /**
   * Stamps `body` with v, room, the room's next seq and ts, appends it to the room's history
   * and delivers it to the room's subscribers (on every process sharing the bus).
   */
  publish(roomId: string, body: RoomFrameBody, options?: PublishOptions): Promise<BusFrame>
  /**
   * Live frames of one room, in seq order. Every frame published after `ready` resolves is
   * delivered (Redis: once the SUBSCRIBE is acknowledged).
   */
  subscribe(roomId: string, listener: (frame: BusFrame) => void): BusSubscription
  /** The room stream's current epoch and last seq. */
  position(roomId: string): Promise<StreamPosition>
  /** The frames with seq > since, if the bounded history still holds all of them. */
  history(roomId: string, since: number, epoch?: string): Promise<HistoryResult>
  /**
   * Calls `listener` when live delivery may have missed frames (the Redis subscriber connection
   * came back): subscribers compare their position with the stream and catch up. The in-memory
   * bus never misses any and has none.
   */
  onGap?(listener: () => void): () => void
  /** Releases connections and timers. Publishing afterwards rejects with BUS_CLOSED. */
  close(): Promise<void>
}

/** Limits of the per-room history. */
export interface HistoryLimits {
  /** Most frames kept per room. @defaultValue 500 */
  maxFrames: number
  /** Frames older than this are not replayed (ms). @defaultValue 120_000 */
  maxAgeMs: number
}

export const DEFAULT_HISTORY_LIMITS = {
  maxFrames: 500,
  maxAgeMs: 120_000,
} as const satisfies HistoryLimits

/**
 * Decides whether `since` can be served from a history whose oldest retained seq is
 * `oldestSeq` (0 if empty) and whose last seq is `position`.
 */
export function classifyResume(
  since: number,
  position: number,
  oldestSeq: number,
): 'ok' | 'gap' | 'ahead' {
  if (since > position) return 'ahead'
  if (since === position) return 'ok'
  // Frames since+1 .. position must all be retained.
  if (oldestSeq === 0 || oldestSeq > since + 1) return 'gap'
  return 'ok'
}
