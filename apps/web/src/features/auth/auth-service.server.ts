import { hash, timingSafeEqual } from 'node:crypto'
import {
  createPkce,
  type OAuthClient,
  type OAuthTokens,
  randomNonce,
} from '@repo/discord-integration'
import { sealData, unsealData } from 'iron-session'
import type { Logger } from 'pino'
import { z } from 'zod'
import { safeReturnTo } from '../../lib/return-to'
import { AppError } from '../../server/app-error'
import type { SessionUser } from '../../server/ports'
import { readCookie, serializeCookie } from './cookies'

/** The session cookie: sealed (encrypted + signed) with SESSION_SECRET. */
export const SESSION_COOKIE = 'tv_session'
/** The short-lived cookie carrying a login attempt's state, PKCE verifier and return URL. */
export const LOGIN_COOKIE = 'tv_login'

const SESSION_TTL_S = 30 * 24 * 60 * 60
const LOGIN_TTL_S = 10 * 60
/** Refresh the Discord access token when it has less than this left. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000
/** How long a refresh's result is shared with requests that still carry the old cookie. */
const REFRESH_SHARE_MS = 30 * 1000

const SessionDataSchema = z.object({
  v: z.literal(1),
  user: z.object({
    userId: z.string(),
    username: z.string(),
    globalName: z.string().nullable(),
    avatar: z.string().nullable(),
  }),
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresAt: z.number(),
})
/** What the session cookie holds. Only ever readable on the server. */
export type SessionData = z.infer<typeof SessionDataSchema>

const LoginStateSchema = z.object({
  state: z.string(),
  verifier: z.string(),
  returnTo: z.string(),
})

/** Options of {@link AuthService}. */
export interface AuthServiceOptions {
  oauth: OAuthClient
  secret: string
  /** Cookies get `Secure` when the public URL is https. */
  secureCookies: boolean
  now: () => number
  logger: Logger
  /**
   * Cache of unsealed session cookies. Unsealing costs two PBKDF2 derivations, an AES decrypt
   * and an HMAC through WebCrypto: ~0.4-0.6 ms of one core per cookie, which a reconnect storm
   * of 10,000 sockets would pay all at once (5 s). The entry lives long enough to cover the
   * sockets of a session that drop and come back (a network blip, a proxy restart); it never
   * outlives the seal, and a cookie is as valid cached as it would be unsealed again.
   * @defaultValue `{ ttlMs: 15 * 60_000, maxEntries: 20_000 }`; `maxEntries: 0` disables it
   */
  sessionCache?: { ttlMs?: number; maxEntries?: number }
}

/** iron's tolerance for clock skew: a seal is accepted until this long after its expiration. */
const SEAL_SKEW_MS = 60_000

/**
 * Unsealed sessions by cookie value (keyed by a SHA-256 of it, so the cache never holds the
 * sealed tokens twice), least recently used first. An entry lives `ttlMs`, never past the
 * seal's own expiration; only successfully verified cookies are cached.
 *
 * An entry keeps the verified session as its JSON text, parsed again on each hit (a few
 * microseconds), so every caller gets its own copy. With one entry per signed-in browser, the
 * text is one heap object where the parsed session was a dozen, all of them for every major
 * GC to mark.
 */
class SessionCache {
  readonly #entries = new Map<string, { json: string; expiresAt: number }>()
  hits = 0
  misses = 0

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  static key(raw: string): string {
    return hash('sha256', raw, 'base64')
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: string): SessionData | null {
    const entry = this.#entries.get(key)
    if (!entry || entry.expiresAt <= this.now()) {
      if (entry) this.#entries.delete(key)
      this.misses++
      return null
    }
    this.hits++
    // most recently used goes last
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return JSON.parse(entry.json) as SessionData
  }

  set(key: string, raw: string, session: SessionData): void {
    if (this.maxEntries <= 0) return
    const now = this.now()
    const expiresAt = Math.min(now + this.ttlMs, sealExpiration(raw) + SEAL_SKEW_MS)
    if (expiresAt <= now) return
    this.#entries.delete(key)
    this.#entries.set(key, { json: JSON.stringify(session), expiresAt })
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && entry.expiresAt > now) break
      this.#entries.delete(oldest)
    }
  }
}

/**
 * The expiration (epoch ms) written into an iron seal (`Fe26.2*id*salt*iv*data*expiration*…~2`),
 * or +Infinity when it has none. Only read after the seal was verified, so it is authentic.
 */
function sealExpiration(raw: string): number {
  const field = raw.split('~', 1)[0]?.split('*')[5] ?? ''
  return /^[1-9]\d*$/.test(field) ? Number(field) : Number.POSITIVE_INFINITY
}

/**
 * Sign-in with Discord, framework-free: login start, callback, silent token
 * refresh and sign-out, all in terms of Cookie / Set-Cookie strings.
 */
export class AuthService {
  readonly #o: AuthServiceOptions
  readonly #sessions: SessionCache
  readonly #refreshes = new Map<string, Promise<OAuthTokens>>()

  constructor(options: AuthServiceOptions) {
    this.#o = options
    this.#sessions = new SessionCache(
      options.sessionCache?.ttlMs ?? 15 * 60_000,
      options.sessionCache?.maxEntries ?? 20_000,
      options.now,
    )
  }

  /** Hits, misses and size of the unsealed-session cache. */
  sessionCacheStats(): { hits: number; misses: number; size: number } {
    const c = this.#sessions
    return { hits: c.hits, misses: c.misses, size: c.size }
  }

  /** Starts a login: where to redirect, and the login cookie to set. */
  async beginLogin(returnTo: unknown): Promise<{ location: string; setCookie: string }> {
    const state = randomNonce()
    const pkce = createPkce()
    const sealed = await sealData(
      { state, verifier: pkce.verifier, returnTo: safeReturnTo(returnTo) },
      { password: this.#o.secret, ttl: LOGIN_TTL_S },
    )
    return {
      location: this.#o.oauth.authorizeUrl({ state, codeChallenge: pkce.challenge }),
      setCookie: serializeCookie(LOGIN_COOKIE, sealed, {
        maxAge: LOGIN_TTL_S,
        path: '/auth',
        secure: this.#o.secureCookies,
      }),
    }
  }

  /**
   * Completes a login from the callback URL: checks state against the login
   * cookie, exchanges the code with the PKCE verifier, reads the user.
   * @throws AppError UNAUTHENTICATED when anything does not match
   */
  async completeLogin(
    callbackUrl: URL,
    cookieHeader: string | null,
  ): Promise<{ session: SessionData; returnTo: string; setCookies: string[] }> {
    const raw = readCookie(cookieHeader, LOGIN_COOKIE)
    const login = raw
      ? LoginStateSchema.safeParse(
          await unsealData(raw, { password: this.#o.secret, ttl: LOGIN_TTL_S }),
        )
      : null
    const state = callbackUrl.searchParams.get('state') ?? ''
    const code = callbackUrl.searchParams.get('code')
    if (!login?.success || !code || !sameString(state, login.data.state)) {
      throw new AppError('UNAUTHENTICATED', { detail: 'login state mismatch' })
    }
    let session: SessionData
    try {
      const tokens = await this.#o.oauth.exchangeCode(code, login.data.verifier)
      const user = await this.#o.oauth.fetchUser(tokens.accessToken)
      session = {
        v: 1,
        user,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: tokens.expiresAt,
      }
    } catch (error) {
      this.#o.logger.warn({ err: describeAuthError(error) }, 'oauth callback failed')
      throw new AppError('UNAUTHENTICATED', { cause: error, detail: 'code exchange failed' })
    }
    this.#o.logger.info({ userId: session.user.userId }, 'signed in')
    return {
      session,
      returnTo: login.data.returnTo,
      // The session cookie goes last: Vite's dev server keeps only the last Set-Cookie of a
      // response, and the login cookie expires by itself within minutes anyway.
      setCookies: [this.clearCookie(LOGIN_COOKIE, '/auth'), await this.sessionCookie(session)],
    }
  }

  /**
   * Reads and verifies the session cookie (no network). Null when absent, tampered or expired.
   * A cookie verified in the last 15 minutes is answered from a bounded cache without unsealing.
   */
  async readSession(cookieHeader: string | null): Promise<SessionData | null> {
    const raw = readCookie(cookieHeader, SESSION_COOKIE)
    if (!raw) return null
    const key = SessionCache.key(raw)
    const cached = this.#sessions.get(key)
    if (cached) return cached
    try {
      const parsed = SessionDataSchema.safeParse(
        await unsealData(raw, { password: this.#o.secret, ttl: SESSION_TTL_S }),
      )
      if (!parsed.success) return null
      this.#sessions.set(key, raw, parsed.data)
      return parsed.data
    } catch {
      return null
    }
  }

  /**
   * Returns a session whose access token is good for a while, refreshing it
   * silently when it is about to expire. `setCookie` is set when the cookie must
   * be rewritten.
   * @throws AppError UNAUTHENTICATED when the refresh fails (the caller clears the cookie)
   */
  async ensureFresh(
    session: SessionData,
  ): Promise<{ session: SessionData; setCookie: string | null }> {
    if (session.expiresAt - this.#o.now() > REFRESH_MARGIN_MS) return { session, setCookie: null }
    try {
      const tokens = await this.#refreshOnce(session.refreshToken)
      const next: SessionData = {
        ...session,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: tokens.expiresAt,
      }
      this.#o.logger.debug({ userId: session.user.userId }, 'refreshed discord token')
      return { session: next, setCookie: await this.sessionCookie(next) }
    } catch (error) {
      this.#o.logger.info(
        { userId: session.user.userId, err: describeAuthError(error) },
        'token refresh failed',
      )
      throw new AppError('UNAUTHENTICATED', { cause: error, detail: 'refresh failed' })
    }
  }

  /**
   * Refresh tokens are single-use: two requests refreshing the same session at once
   * (two tabs, a loader and an action) would sign the user out with invalid_grant.
   * Concurrent and slightly later callers with the same refresh token share one
   * refresh and its result for REFRESH_SHARE_MS.
   */
  #refreshOnce(refreshToken: string): Promise<OAuthTokens> {
    const pending = this.#refreshes.get(refreshToken)
    if (pending) return pending
    const refresh = this.#o.oauth.refresh(refreshToken)
    this.#refreshes.set(refreshToken, refresh)
    const forget = () => this.#refreshes.delete(refreshToken)
    refresh.then(
      () => setTimeout(forget, REFRESH_SHARE_MS).unref(),
      () => forget(),
    )
    return refresh
  }

  /** Signs out: revokes the Discord authorization (best effort) and returns the clearing cookie. */
  async logout(cookieHeader: string | null): Promise<string> {
    const session = await this.readSession(cookieHeader)
    if (session) {
      try {
        await this.#o.oauth.revoke(session.refreshToken)
      } catch (error) {
        this.#o.logger.warn({ err: describeAuthError(error) }, 'token revoke failed')
      }
      this.#o.logger.info({ userId: session.user.userId }, 'signed out')
    }
    return this.clearCookie(SESSION_COOKIE)
  }

  /** The Set-Cookie value holding `session`. */
  async sessionCookie(session: SessionData): Promise<string> {
    const sealed = await sealData(session, { password: this.#o.secret, ttl: SESSION_TTL_S })
    return serializeCookie(SESSION_COOKIE, sealed, {
      maxAge: SESSION_TTL_S - 60,
      secure: this.#o.secureCookies,
    })
  }

  /** A Set-Cookie value that deletes `name`. */
  clearCookie(name: string, path = '/'): string {
    return serializeCookie(name, '', { maxAge: 0, path, secure: this.#o.secureCookies })
  }
}

/** The public part of a session. */
export function sessionUser(session: SessionData): SessionUser {
  return { ...session.user }
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function describeAuthError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status
    return { name: error.name, status }
  }
  return { error: typeof error }
}
