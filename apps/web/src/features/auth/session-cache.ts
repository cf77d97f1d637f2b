import type { LoginSession } from './login-session'

/** How long an ended session's id is remembered (see {@link SessionCache.wasEnded}). */
const ENDED_MEMORY_MS = 60_000
const MAX_ENDED_REMEMBERED = 100_000

/**
 * This node's copies of recently used sessions, by id, least recently used first, so that a page,
 * a server function or a reconnect storm of 10,000 sockets reads a session from memory and not
 * from the store. An entry lives `ttlMs`, never past the session's own expiry, and goes at once
 * when the session ends on any node (LoginSessions listens to the store's notices; after a lost
 * subscription the whole cache is dropped).
 *
 * An entry keeps the session as its JSON text, parsed again on each hit (a few microseconds), so
 * every caller gets its own copy and 10,000 entries are 10,000 strings for the GC to mark rather
 * than a dozen objects each.
 *
 * It also remembers the ids of sessions ended in the last minute: a store read that was already
 * under way when the notice arrived may still return the session, and {@link wasEnded} lets the
 * reader refuse it rather than cache it.
 */
export class SessionCache {
  readonly #entries = new Map<string, { json: string; expiresAt: number }>()
  readonly #ended = new Map<string, number>()
  hits = 0
  misses = 0

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.#entries.size
  }

  get(id: string): LoginSession | null {
    const entry = this.#entries.get(id)
    if (!entry || entry.expiresAt <= this.now()) {
      if (entry) this.#entries.delete(id)
      this.misses++
      return null
    }
    this.hits++
    // most recently used goes last
    this.#entries.delete(id)
    this.#entries.set(id, entry)
    return JSON.parse(entry.json) as LoginSession
  }

  set(session: LoginSession): void {
    if (this.maxEntries <= 0 || this.wasEnded(session.id)) return
    const now = this.now()
    const expiresAt = Math.min(now + this.ttlMs, session.expiresAt)
    if (expiresAt <= now) return
    this.#entries.delete(session.id)
    this.#entries.set(session.id, { json: JSON.stringify(session), expiresAt })
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && entry.expiresAt > now) break
      this.#entries.delete(oldest)
    }
  }

  /** Forgets sessions that ended, and remembers for a minute that they did. */
  ended(ids: readonly string[]): void {
    const now = this.now()
    for (const id of ids) {
      this.#entries.delete(id)
      this.#ended.delete(id)
      this.#ended.set(id, now)
    }
    for (const [id, at] of this.#ended) {
      if (this.#ended.size <= MAX_ENDED_REMEMBERED && at > now - ENDED_MEMORY_MS) break
      this.#ended.delete(id)
    }
  }

  /** Whether the session ended in the last minute (as far as this node heard). */
  wasEnded(id: string): boolean {
    const at = this.#ended.get(id)
    return at !== undefined && at > this.now() - ENDED_MEMORY_MS
  }

  /** Copies of the entries still live (what a store that lost its data gets back from this node). */
  sessions(): LoginSession[] {
    const now = this.now()
    const out: LoginSession[] = []
    for (const entry of this.#entries.values()) {
      if (entry.expiresAt > now) out.push(JSON.parse(entry.json) as LoginSession)
    }
    return out
  }

  /** Drops every entry (the notices of ended sessions may have been lost). */
  clear(): void {
    this.#entries.clear()
  }
}
