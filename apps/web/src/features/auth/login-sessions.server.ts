import type { OAuthClient } from '@repo/discord-integration'
import type { Logger } from 'pino'
import type { SessionUser } from '../../server/ports'
import {
  type DiscordTokens,
  type LoginSession,
  type LoginSessionStore,
  MAX_SESSIONS_PER_USER,
  SESSION_IDLE_MS,
  SESSION_TOUCH_MS,
} from './login-session'
import { SessionCache } from './session-cache'
import { type SessionHolder, SessionHolders } from './session-holders.server'
import type { SessionKeys } from './session-keys.server'
import { SessionTokens } from './session-tokens.server'
import { TokenRenewals } from './token-renewals.server'

export type { SessionHolder } from './session-holders.server'

/** Options of {@link LoginSessions}. */
export interface LoginSessionsOptions {
  store: LoginSessionStore
  keys: SessionKeys
  oauth: Pick<OAuthClient, 'refresh' | 'revoke'>
  now: () => number
  logger: Logger
  /**
   * This node's cache of sessions (session-cache.ts): a hit costs no store round trip, which a
   * reconnect storm of 10,000 sockets would otherwise pay all at once.
   * @defaultValue `{ ttlMs: 15 * 60_000, maxEntries: 20_000 }`; `maxEntries: 0` disables it
   */
  cache?: { ttlMs?: number; maxEntries?: number }
  /** @defaultValue {@link MAX_SESSIONS_PER_USER} */
  maxPerUser?: number
  /** How often expired sessions are removed from a store that keeps them. @defaultValue 1 hour */
  sweepIntervalMs?: number
  /**
   * How often the holders' sessions are checked against the store: sessions that expired (no notice
   * announces those) or whose notice was lost. @defaultValue 1 minute
   */
  recheckIntervalMs?: number
}

/** What a session cookie leads to. */
export type SessionLookup =
  /** No session cookie. */
  | { state: 'none' }
  /** A cookie that is not one of ours: the earlier format, tampered with, another secret. */
  | { state: 'invalid' }
  /** One of ours whose session ended: signed out (here or everywhere), expired, revoked. */
  | { state: 'ended'; id: string }
  /** A live session; `renewed` when this use was recorded (the cookie is then renewed too). */
  | { state: 'active'; id: string; session: LoginSession; renewed: boolean }

/**
 * Login sessions on the server: created at sign-in, looked up by id for every request and socket
 * (this node's cache first, then the store), their use recorded at most once a day, their Discord
 * tokens renewed when close to expiry, and ended (sign-out, sign-out everywhere, a Discord refusal,
 * the per-user limit) on every node at once: the store announces each ending, and this class drops
 * it from the cache and ends it in its holders (the presence service closes the session's sockets).
 */
export class LoginSessions {
  readonly #o: LoginSessionsOptions
  readonly #cache: SessionCache
  readonly #tokens: SessionTokens
  readonly #renewals: TokenRenewals
  readonly #holders: SessionHolders
  #unwatch: (() => void) | null = null
  #timers: ReturnType<typeof setInterval>[] = []
  /**
   * Notices of ended sessions may have been lost (the store's watch reconnected): the cache is
   * dropped once the store was checked for a loss of its data (which needs the cache's copies).
   */
  #noticesLost = false
  #checks: Promise<void> = Promise.resolve()

  constructor(options: LoginSessionsOptions) {
    this.#o = options
    this.#cache = new SessionCache(
      options.cache?.ttlMs ?? 15 * 60_000,
      options.cache?.maxEntries ?? 20_000,
      options.now,
    )
    const { store, keys, oauth, now, logger } = options
    this.#tokens = new SessionTokens({ keys, oauth, logger })
    this.#renewals = new TokenRenewals({
      store,
      oauth,
      now,
      logger,
      tokens: this.#tokens,
      cache: this.#cache,
      endSession: (id) => this.end([id], { revokeDiscord: false }),
    })
    this.#holders = new SessionHolders(options.logger)
  }

  /**
   * Listens to the store's notices of ended sessions, removes expired sessions now and then, and
   * checks the holders' sessions every minute.
   */
  async start(): Promise<void> {
    if (this.#unwatch) return
    this.#unwatch = this.#o.store.watch((ids) => this.#ended(ids))
    // Endings announced from here on reach this node.
    await this.#o.store.watching()
    // Joins the store's life, so that a later loss of its data is noticed.
    await this.#restore()
    await this.#sweep()
    this.#timers = [
      setInterval(() => void this.#sweep(), this.#o.sweepIntervalMs ?? 3_600_000),
      setInterval(() => void this.#check(), this.#o.recheckIntervalMs ?? 60_000),
    ]
    for (const timer of this.#timers) timer.unref?.()
  }

  async stop(): Promise<void> {
    this.#unwatch?.()
    this.#unwatch = null
    for (const timer of this.#timers) clearInterval(timer)
    this.#timers = []
    this.#holders.clear()
  }

  /**
   * Ends a holder's sessions there as soon as they end on any node (the presence service closes
   * their sockets with 4001), and those found expired or ended when they are checked.
   */
  attach(holder: SessionHolder): () => void {
    return this.#holders.attach(holder)
  }

  /** Hits, misses and size of this node's session cache. */
  cacheStats(): { hits: number; misses: number; size: number } {
    const c = this.#cache
    return { hits: c.hits, misses: c.misses, size: c.size }
  }

  /** Starts a session for a user who just signed in; the cookie value names it. */
  async create(
    user: SessionUser,
    tokens: DiscordTokens,
  ): Promise<{ cookieValue: string; session: LoginSession }> {
    const now = this.#o.now()
    const { cookieValue, id } = this.#o.keys.mint()
    const session: LoginSession = {
      v: 1,
      id,
      user: { ...user },
      tokens: this.#tokens.seal(tokens, id),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + SESSION_IDLE_MS,
    }
    const pushedOut = await this.#o.store.create(session, {
      maxPerUser: this.#o.maxPerUser ?? MAX_SESSIONS_PER_USER,
      now,
    })
    // Their Discord authorizations are left alone: Discord may revoke a user's whole authorization
    // of the app at once, the one just granted included.
    if (pushedOut.length > 0) this.#ended(pushedOut.map((s) => s.id))
    this.#cache.set(session)
    return { cookieValue, session }
  }

  /** The id of the session a cookie value names, live or not; null when it is not one of ours. */
  idOf(cookieValue: string | null): string | null {
    return cookieValue ? this.#o.keys.idOf(cookieValue) : null
  }

  /** The session a cookie value names (no network unless this node has not seen it lately). */
  async lookup(cookieValue: string | null): Promise<SessionLookup> {
    if (!cookieValue) return { state: 'none' }
    const id = this.idOf(cookieValue)
    if (!id) return { state: 'invalid' }
    const now = this.#o.now()
    let session = this.#cache.get(id)
    if (!session) {
      if (this.#cache.wasEnded(id)) return { state: 'ended', id }
      session = await this.#o.store.get(id, now)
      // An ending announced while the store answered wins over the answer.
      if (!session || this.#cache.wasEnded(id)) return { state: 'ended', id }
      this.#cache.set(session)
    }
    if (now - session.lastSeenAt < SESSION_TOUCH_MS) {
      return { state: 'active', id, session, renewed: false }
    }
    const touch = (s: LoginSession): LoginSession => ({
      ...s,
      lastSeenAt: now,
      expiresAt: now + SESSION_IDLE_MS,
    })
    session = touch(session)
    this.#cache.set(session)
    // Not waited for: the request goes on with the renewed copy; an ending meanwhile wins.
    this.#o.store.update(id, now, touch).then(
      (stored) => (stored ? this.#cache.set(stored) : this.#cache.ended([id])),
      (error: unknown) => this.#o.logger.warn({ err: error }, 'could not record session use'),
    )
    return { state: 'active', id, session, renewed: true }
  }

  /**
   * The session's Discord tokens, renewed first when the access token is close to expiry (one
   * renewal per session at a time on this node; another node's renewal is picked up from the store).
   * @throws AppError SESSION_EXPIRED when the session ended meanwhile; DISCORD_AUTH_REVOKED when
   *   Discord refused the renewal (the session is then ended); DISCORD_UNAVAILABLE or RATE_LIMITED
   *   when Discord could not answer (the session is kept)
   */
  freshTokens(session: LoginSession): Promise<DiscordTokens> {
    return this.#renewals.fresh(session)
  }

  /** Ends sessions on every node; with `revokeDiscord`, their Discord authorizations too (best effort). */
  async end(ids: readonly string[], options: { revokeDiscord: boolean }): Promise<LoginSession[]> {
    const ended = await this.#o.store.end(ids)
    this.#ended([...ids])
    if (options.revokeDiscord) await Promise.all(ended.map((s) => this.#tokens.revoke(s)))
    return ended
  }

  /** Ends every session of a user, on every node (sign out everywhere). */
  async endUser(userId: string, options: { revokeDiscord: boolean }): Promise<LoginSession[]> {
    const ended = await this.#o.store.endUser(userId)
    this.#ended(ended.map((s) => s.id))
    if (options.revokeDiscord) await Promise.all(ended.map((s) => this.#tokens.revoke(s)))
    return ended
  }

  /** Which of `ids` are live sessions. */
  live(ids: readonly string[]): Promise<Set<string>> {
    return this.#o.store.live(ids, this.#o.now())
  }

  #ended(ids: string[] | null): void {
    if (ids === null) {
      this.#noticesLost = true
      void this.#check()
      return
    }
    this.#cache.ended(ids)
    this.#holders.endSessions(ids)
  }

  /**
   * After a lost watch, and every `recheckIntervalMs`: writes back this node's sessions if the store
   * lost its data (a Redis restarted empty: a session missing then is not an ended one), drops the
   * cache once that was checked if notices may have been lost, then ends in the holders the
   * sessions the store does not have.
   */
  #check(): Promise<void> {
    // One at a time: a check the watch asks for while the periodic one runs comes after it.
    this.#checks = this.#checks.then(() => this.#checkNow())
    return this.#checks
  }

  async #checkNow(): Promise<void> {
    if (!(await this.#restore())) return // the store does not answer: keep everything as it is
    if (this.#noticesLost) {
      this.#noticesLost = false
      this.#cache.clear()
    }
    // The sessions the store no longer has (expired, or a notice was lost).
    await this.#holders.endGone((ids) => this.live(ids))
  }

  /** False when the store could not be checked for a loss of its data. */
  async #restore(): Promise<boolean> {
    const { store, logger } = this.#o
    if (!store.restore) return true
    try {
      const restored = await store.restore(() => this.#cache.sessions(), this.#o.now())
      if (restored > 0) {
        logger.warn(
          { restored },
          'the session store had lost its data: wrote back the sessions this node holds',
        )
      }
      return true
    } catch (error) {
      logger.warn({ err: error }, 'could not check the session store for lost data')
      return false
    }
  }

  async #sweep(): Promise<void> {
    try {
      const removed = await this.#o.store.sweep(this.#o.now())
      if (removed > 0) this.#o.logger.info({ removed }, 'removed expired sessions')
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'session sweep failed')
    }
  }
}
