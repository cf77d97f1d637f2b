import { CoalescedFileWriter, jsonArrayChunks, readJsonFile } from '@repo/file-persistence'
import { z } from 'zod'
import { type LoginSession, LoginSessionSchema, type LoginSessionStore } from './login-session'

const FileSchema = z.object({ version: z.literal(1), sessions: z.array(LoginSessionSchema) })

/**
 * The single-node session store: every session in memory, persisted to one JSON file
 * (DATA_DIR/sessions.json, mode 0600) with an atomic write after each change. Changes apply
 * synchronously to the in-memory copy, so each is atomic within the process; notices of ended
 * sessions go to this process's watchers, which is every watcher there is on one node.
 *
 * Writes are coalesced (CoalescedFileWriter): at most one on its way and one waiting, which
 * serialises the state when it starts. Sessions are written when created, ended, renewed (their
 * Discord tokens) and at most once a day per session for their last use, so the file changes
 * rarely compared with the requests that read it.
 */
export class FileLoginSessionStore implements LoginSessionStore {
  readonly #path: string
  readonly #file: CoalescedFileWriter
  readonly #sessions = new Map<string, LoginSession>()
  /** Each user's session ids. */
  readonly #byUser = new Map<string, Set<string>>()
  readonly #watchers = new Set<(ids: string[] | null) => void>()
  #loaded: Promise<void> | null = null

  constructor(path: string) {
    this.#path = path
    const sessions = this.#sessions
    this.#file = new CoalescedFileWriter(path, async function* () {
      // Records are replaced on change, never mutated: this copy stays consistent while written.
      const all = [...sessions.values()]
      yield '{"version":1,"sessions":['
      yield* jsonArrayChunks(all)
      yield ']}'
    })
  }

  /** Loads the file (once). A missing file is an empty store. */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      const data = await readJsonFile(this.#path, (v) => FileSchema.parse(v))
      for (const session of data?.sessions ?? []) this.#put(session)
    })()
    return this.#loaded
  }

  async get(id: string, now: number): Promise<LoginSession | null> {
    await this.load()
    return this.#live(id, now)
  }

  async create(
    session: LoginSession,
    options: { maxPerUser: number; now: number },
  ): Promise<LoginSession[]> {
    await this.load()
    if (this.#sessions.has(session.id)) throw new Error('session id exists')
    this.#put(session)
    // The user's other live sessions, least recently used first (ties by id, as in Redis).
    const others = [...(this.#byUser.get(session.user.userId) ?? [])]
      .filter((id) => id !== session.id)
      .map((id) => this.#live(id, options.now))
      .filter((s): s is LoginSession => s !== null)
      .sort((a, b) => a.lastSeenAt - b.lastSeenAt || (a.id < b.id ? -1 : 1))
    const excess = others.length + 1 - options.maxPerUser
    const ended = this.#remove(others.slice(0, Math.max(0, excess)).map((s) => s.id))
    const written = this.#file.persist()
    this.#announce(ended)
    await written
    return ended
  }

  async update(
    id: string,
    now: number,
    fn: (session: LoginSession) => LoginSession | undefined,
  ): Promise<LoginSession | null> {
    await this.load()
    const current = this.#live(id, now)
    if (!current) return null
    const next = fn(current)
    if (next === undefined) return current
    this.#put(next)
    await this.#file.persist()
    return next
  }

  async end(ids: readonly string[]): Promise<LoginSession[]> {
    await this.load()
    const ended = this.#remove(ids)
    if (ended.length === 0) return ended
    // Announced at once (memory already says so), not after the disk write.
    const written = this.#file.persist()
    this.#announce(ended)
    await written
    return ended
  }

  async endUser(userId: string): Promise<LoginSession[]> {
    await this.load()
    return this.end([...(this.#byUser.get(userId) ?? [])])
  }

  async live(ids: readonly string[], now: number): Promise<Set<string>> {
    await this.load()
    return new Set(ids.filter((id) => this.#live(id, now) !== null))
  }

  async sweep(now: number): Promise<number> {
    await this.load()
    const expired = [...this.#sessions.values()].filter((s) => s.expiresAt <= now).map((s) => s.id)
    const removed = this.#remove(expired)
    if (removed.length > 0) await this.#file.persist()
    return removed.length
  }

  watch(listener: (ids: string[] | null) => void): () => void {
    this.#watchers.add(listener)
    return () => {
      this.#watchers.delete(listener)
    }
  }

  /** In place at once: the watchers are in this process. */
  async watching(): Promise<void> {}

  async close(): Promise<void> {
    this.#watchers.clear()
    await this.#file.flush()
  }

  #live(id: string, now: number): LoginSession | null {
    const session = this.#sessions.get(id)
    return session && session.expiresAt > now ? session : null
  }

  #put(session: LoginSession): void {
    this.#sessions.set(session.id, session)
    const mine = this.#byUser.get(session.user.userId) ?? new Set<string>()
    mine.add(session.id)
    this.#byUser.set(session.user.userId, mine)
  }

  #remove(ids: readonly string[]): LoginSession[] {
    const removed: LoginSession[] = []
    for (const id of ids) {
      const session = this.#sessions.get(id)
      if (!session) continue
      this.#sessions.delete(id)
      const mine = this.#byUser.get(session.user.userId)
      mine?.delete(id)
      if (mine?.size === 0) this.#byUser.delete(session.user.userId)
      removed.push(session)
    }
    return removed
  }

  #announce(ended: LoginSession[]): void {
    if (ended.length === 0) return
    const ids = ended.map((s) => s.id)
    for (const listener of this.#watchers) {
      try {
        listener(ids)
      } catch {
        // One watcher's failure must not starve the others.
      }
    }
  }
}
