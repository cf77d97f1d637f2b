import type { ViewerRegistry } from './ports'

/**
 * One node's page subscriptions: per room, per user, how many of the user's sockets have the page
 * open. A user is viewing while at least one does (two tabs, a reconnect racing the old socket).
 */
export class LocalViewers {
  readonly #rooms = new Map<string, Map<string, number>>()

  /** Counts a socket in; true when the user was not viewing the room on this node before. */
  open(roomId: string, userId: string): boolean {
    let users = this.#rooms.get(roomId)
    if (!users) {
      users = new Map()
      this.#rooms.set(roomId, users)
    }
    const count = users.get(userId) ?? 0
    users.set(userId, count + 1)
    return count === 0
  }

  /** Counts a socket out; true when that was the user's last socket on the room here. */
  close(roomId: string, userId: string): boolean {
    const users = this.#rooms.get(roomId)
    const count = users?.get(userId)
    if (!users || count === undefined) return false
    if (count > 1) {
      users.set(userId, count - 1)
      return false
    }
    users.delete(userId)
    if (users.size === 0) this.#rooms.delete(roomId)
    return true
  }

  /** The users viewing the room on this node. */
  users(roomId: string): IterableIterator<string> | readonly string[] {
    return this.#rooms.get(roomId)?.keys() ?? []
  }

  has(roomId: string, userId: string): boolean {
    return this.#rooms.get(roomId)?.has(userId) ?? false
  }

  /** Every room with a viewer here, with its users. */
  *entries(): Generator<[string, string[]]> {
    for (const [roomId, users] of this.#rooms) yield [roomId, [...users.keys()]]
  }
}

/** Calls every listener, each in its own try (one failing must not starve the others). */
export function notifyAll(listeners: Iterable<(roomId: string) => void>, roomId: string): void {
  for (const listener of listeners) {
    try {
      listener(roomId)
    } catch {
      // the listener's owner logs its own failures
    }
  }
}

const sortIds = (ids: Iterable<string>) => [...ids].sort()

/**
 * The single-node ViewerPresence: this process's page subscriptions are everyone's. Changes are
 * told at once, synchronously (listeners defer their own work).
 */
export class MemoryViewerPresence implements ViewerRegistry {
  readonly #local = new LocalViewers()
  readonly #listeners = new Set<(roomId: string) => void>()
  readonly synced = true

  viewers(roomId: string): readonly string[] {
    return sortIds(this.#local.users(roomId))
  }

  isViewing(roomId: string, userId: string): boolean {
    return this.#local.has(roomId, userId)
  }

  onChange(listener: (roomId: string) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  open(roomId: string, userId: string): void {
    if (this.#local.open(roomId, userId)) notifyAll(this.#listeners, roomId)
  }

  close(roomId: string, userId: string): void {
    if (this.#local.close(roomId, userId)) notifyAll(this.#listeners, roomId)
  }

  start(): Promise<void> {
    return Promise.resolve()
  }

  stop(): Promise<void> {
    this.#listeners.clear()
    return Promise.resolve()
  }
}
