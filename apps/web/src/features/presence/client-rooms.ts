import {
  type ClientFrame,
  PROTOCOL_VERSION,
  type ServerFrame,
} from '@repo/discord-integration/contracts'
import { EMPTY_STREAM, type RoomStream } from './room-stream'

/** How a room is shown: its page (the user is "here"), or a line in a list of rooms. */
export type RoomMode = 'page' | 'summary'

/** One room the page shows or listens to. */
export interface RoomEntry {
  refs: number
  /** Of `refs`, those showing the room's page: any makes the subscription a page one. */
  pageRefs: number
  /** The mode the room was last subscribed in. */
  mode: RoomMode
  stream: RoomStream
  readonly streamListeners: Set<() => void>
  readonly frameListeners: Set<(frame: ServerFrame) => void>
}

/** The mode the room's subscription should have: page while any page shows it. */
export function modeOf(entry: RoomEntry): RoomMode {
  return entry.pageRefs > 0 ? 'page' : 'summary'
}

/** Replaces the room's stream and tells its listeners (nothing when it is the same object). */
export function setStream(entry: RoomEntry, stream: RoomStream): void {
  if (entry.stream === stream) return
  entry.stream = stream
  for (const listener of entry.streamListeners) listener()
}

/**
 * The room's subscribe frame: resuming after what its stream holds (none before a first snapshot),
 * in the entry's mode.
 */
export function subscribeFrame(roomId: string, entry: RoomEntry): ClientFrame {
  const { epoch, seq } = entry.stream
  return {
    v: PROTOCOL_VERSION,
    type: 'subscribe',
    room: roomId,
    ...(epoch === null ? {} : { since: seq, epoch }),
    // The first protocol release had only pages: the field is sent only when it differs.
    ...(entry.mode === 'summary' ? { mode: 'summary' as const } : {}),
  }
}

/** Adds the listener to the set; returns its removal. */
export function addListener<L>(listeners: Set<L>, listener: L): () => void {
  listeners.add(listener)
  return () => {
    listeners.delete(listener)
  }
}

/** The rooms of one presence client, created on first use. */
export class ClientRooms {
  readonly #rooms = new Map<string, RoomEntry>()

  /** The room's entry, created (unretained, with an empty stream) when it has none. */
  entry(roomId: string): RoomEntry {
    let entry = this.#rooms.get(roomId)
    if (!entry) {
      entry = {
        refs: 0,
        pageRefs: 0,
        mode: 'summary',
        stream: EMPTY_STREAM,
        streamListeners: new Set(),
        frameListeners: new Set(),
      }
      this.#rooms.set(roomId, entry)
    }
    return entry
  }

  get(roomId: string): RoomEntry | undefined {
    return this.#rooms.get(roomId)
  }

  delete(roomId: string): void {
    this.#rooms.delete(roomId)
  }

  clear(): void {
    this.#rooms.clear()
  }

  /** Every room with its entry. */
  entries(): IterableIterator<[string, RoomEntry]> {
    return this.#rooms.entries()
  }

  /** Whether any room is retained. */
  anyRetained(): boolean {
    return [...this.#rooms.values()].some((e) => e.refs > 0)
  }
}
