import {
  describeDiscordError,
  isRevokedAuthorization,
  type OAuthClient,
  toDiscordFailure,
} from '@repo/discord-integration'
import type { Logger } from 'pino'
import { AppError } from '../../server/app-error'
import type { SessionUser } from '../../server/ports'
import {
  type DiscordTokens,
  DiscordTokensSchema,
  type LoginSession,
  type LoginSessionStore,
  MAX_SESSIONS_PER_USER,
  SESSION_IDLE_MS,
  SESSION_TOUCH_MS,
} from './login-session'
import { SessionCache } from './session-cache'
import type { SessionKeys } from './session-keys.server'

/** Renew the Discord access token when it has less than this left. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000

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

/**
 * Something that keeps sessions open on this node (the presence sockets): which ones, and how to
 * end them there.
 */
export interface SessionHolder {
  sessionIds(): string[]
  endSessions(ids: readonly string[]): void
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
  readonly #renewals = new Map<string, Promise<DiscordTokens>>()
  readonly #holders = new Set<SessionHolder>()
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
    this.#holders.add(holder)
    return () => {
      this.#holders.delete(holder)
    }
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
      tokens: this.#seal(tokens, id),
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
  async freshTokens(session: LoginSession): Promise<DiscordTokens> {
    const now = this.#o.now()
    const tokens = this.#open(session)
    if (tokens && tokens.expiresAt - now > REFRESH_MARGIN_MS) return tokens
    // Another node may have renewed them already: the store has the latest.
    const stored = await this.#o.store.get(session.id, now)
    const storedTokens = stored ? this.#open(stored) : null
    if (!stored || !storedTokens) {
      await this.end([session.id], { revokeDiscord: false })
      throw new AppError('SESSION_EXPIRED', { detail: 'session gone before its tokens were read' })
    }
    this.#cache.set(stored)
    if (storedTokens.expiresAt - now > REFRESH_MARGIN_MS) return storedTokens
    let renewal = this.#renewals.get(stored.id)
    if (!renewal) {
      renewal = this.#renew(stored, storedTokens)
      this.#renewals.set(stored.id, renewal)
      const forget = () => this.#renewals.delete(stored.id)
      renewal.then(forget, forget)
    }
    return renewal
  }

  /** Ends sessions on every node; with `revokeDiscord`, their Discord authorizations too (best effort). */
  async end(ids: readonly string[], options: { revokeDiscord: boolean }): Promise<LoginSession[]> {
    const ended = await this.#o.store.end(ids)
    this.#ended([...ids])
    if (options.revokeDiscord) await Promise.all(ended.map((s) => this.#revokeDiscord(s)))
    return ended
  }

  /** Ends every session of a user, on every node (sign out everywhere). */
  async endUser(userId: string, options: { revokeDiscord: boolean }): Promise<LoginSession[]> {
    const ended = await this.#o.store.endUser(userId)
    this.#ended(ended.map((s) => s.id))
    if (options.revokeDiscord) await Promise.all(ended.map((s) => this.#revokeDiscord(s)))
    return ended
  }

  /** Which of `ids` are live sessions. */
  live(ids: readonly string[]): Promise<Set<string>> {
    return this.#o.store.live(ids, this.#o.now())
  }

  async #renew(session: LoginSession, tokens: DiscordTokens): Promise<DiscordTokens> {
    const { logger, oauth, store } = this.#o
    let renewed: DiscordTokens
    try {
      const next = await oauth.refresh(tokens.refreshToken)
      renewed = {
        accessToken: next.accessToken,
        refreshToken: next.refreshToken,
        expiresAt: next.expiresAt,
      }
    } catch (error) {
      if (!isRevokedAuthorization(error)) {
        logger.warn({ err: describeDiscordError(error) }, 'discord token renewal failed')
        throw toDiscordFailure(error)
      }
      // Refresh tokens are single-use: another node may have used this one a moment ago.
      const latest = await store.get(session.id, this.#o.now())
      const latestTokens = latest && latest.tokens !== session.tokens ? this.#open(latest) : null
      if (latest && latestTokens) {
        this.#cache.set(latest)
        return latestTokens
      }
      logger.info(
        { userId: session.user.userId, err: describeDiscordError(error) },
        'discord refused the session token renewal: session ended',
      )
      await this.end([session.id], { revokeDiscord: false })
      throw new AppError('DISCORD_AUTH_REVOKED', { cause: error })
    }
    const stored = await store.update(session.id, this.#o.now(), (s) =>
      s.tokens === session.tokens ? { ...s, tokens: this.#seal(renewed, s.id) } : undefined,
    )
    if (!stored) {
      // Ended while Discord answered: the new authorization must not outlive it.
      await this.#revokeDiscord({ ...session, tokens: this.#seal(renewed, session.id) })
      throw new AppError('SESSION_EXPIRED', { detail: 'session ended during token renewal' })
    }
    this.#cache.set(stored)
    logger.debug({ userId: session.user.userId }, 'renewed discord token')
    return renewed
  }

  #ended(ids: string[] | null): void {
    if (ids === null) {
      this.#noticesLost = true
      void this.#check()
      return
    }
    this.#cache.ended(ids)
    for (const holder of this.#holders) {
      try {
        holder.endSessions(ids)
      } catch (error) {
        this.#o.logger.error({ err: error }, 'ending sessions in a holder failed')
      }
    }
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
    await this.#recheck()
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

  /** Ends, in the holders, the sessions the store no longer has (expired, or a notice was lost). */
  async #recheck(): Promise<void> {
    for (const holder of this.#holders) {
      try {
        const ids = holder.sessionIds()
        if (ids.length === 0) continue
        const live = await this.live(ids)
        const gone = ids.filter((id) => !live.has(id))
        if (gone.length > 0) holder.endSessions(gone)
      } catch (error) {
        this.#o.logger.warn({ err: error }, 'session recheck failed')
      }
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

  async #revokeDiscord(session: LoginSession): Promise<void> {
    const tokens = this.#open(session)
    if (!tokens) return
    try {
      await this.#o.oauth.revoke(tokens.refreshToken)
    } catch (error) {
      this.#o.logger.warn({ err: describeDiscordError(error) }, 'discord token revoke failed')
    }
  }

  #seal(tokens: DiscordTokens, id: string): string {
    return this.#o.keys.seal(JSON.stringify(tokens), id)
  }

  #open(session: LoginSession): DiscordTokens | null {
    const plain = this.#o.keys.open(session.tokens, session.id)
    if (plain === null) return null
    const parsed = DiscordTokensSchema.safeParse(JSON.parse(plain))
    return parsed.success ? parsed.data : null
  }
}
