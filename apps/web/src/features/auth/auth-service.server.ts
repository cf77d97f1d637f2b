import { timingSafeEqual } from 'node:crypto'
import {
  createPkce,
  describeDiscordError,
  type OAuthClient,
  randomNonce,
} from '@repo/discord-integration'
import { sealData, unsealData } from 'iron-session'
import type { Logger } from 'pino'
import { z } from 'zod'
import { safeReturnTo } from '../../lib/return-to'
import { AppError } from '../../server/app-error'
import type { SessionUser } from '../../server/ports'
import { readCookie, serializeCookie } from './cookies'
import { type LoginSessionStore, SESSION_IDLE_MS } from './login-session'
import { LoginSessions, type SessionLookup } from './login-sessions.server'
import { SessionKeys } from './session-keys.server'

/**
 * The session cookie: `s1.<token>.<mac>` (session-keys.server.ts), naming a server-side login
 * session. A cookie of the earlier format (an iron-session seal holding the tokens) is not one of
 * ours any more and reads as signed out.
 */
export const SESSION_COOKIE = 'tv_session'
/** The short-lived cookie carrying a login attempt's state, PKCE verifier and return URL. */
export const LOGIN_COOKIE = 'tv_login'

const LOGIN_TTL_S = 10 * 60
/** The session cookie lives as long as an unused session (renewed when its use is recorded). */
const SESSION_COOKIE_TTL_S = SESSION_IDLE_MS / 1000

const LoginStateSchema = z.object({
  state: z.string(),
  verifier: z.string(),
  returnTo: z.string(),
})

/** Options of {@link AuthService}. */
export interface AuthServiceOptions {
  oauth: OAuthClient
  /** SESSION_SECRET: seals the login cookie, signs session cookies, encrypts stored tokens. */
  secret: string
  /** Where login sessions live (file on one node, Redis on several). */
  store: LoginSessionStore
  /** Cookies get `Secure` when the public URL is https. */
  secureCookies: boolean
  now: () => number
  logger: Logger
  /**
   * Where the lines a client can cause at will go (a forged or replayed sign-in callback): the
   * runtime hands in a rate-limited logger (LogThrottle). @defaultValue `logger`
   */
  refusalLog?: Logger
  /** This node's session cache (login-sessions.server.ts). */
  sessionCache?: { ttlMs?: number; maxEntries?: number }
  /** Sessions one user may hold (login-session.ts). */
  maxSessionsPerUser?: number
}

/** A session cookie, read: what it leads to, and the renewed cookie when its use was recorded. */
export type CookieSession = SessionLookup & { renewCookie?: string }

/**
 * Sign-in with Discord, framework-free: login start, callback, reading the session a request's
 * Cookie header names, sign-out and sign-out everywhere, all in terms of Cookie / Set-Cookie
 * strings. The sessions themselves live on the server ({@link LoginSessions}).
 */
export class AuthService {
  readonly #o: AuthServiceOptions
  /** The server-side sessions (lookup, Discord tokens, ending them, notices of endings). */
  readonly sessions: LoginSessions
  /** The log of refused sign-ins, which anyone can cause: rate-limited by the runtime. */
  readonly refusals: Logger

  constructor(options: AuthServiceOptions) {
    this.#o = options
    this.refusals = options.refusalLog ?? options.logger
    this.sessions = new LoginSessions({
      store: options.store,
      keys: new SessionKeys(options.secret),
      oauth: options.oauth,
      now: options.now,
      logger: options.logger,
      ...(options.sessionCache ? { cache: options.sessionCache } : {}),
      ...(options.maxSessionsPerUser ? { maxPerUser: options.maxSessionsPerUser } : {}),
    })
  }

  /** Starts listening for sessions ended on other nodes, and the removal of expired ones. */
  start(): Promise<void> {
    return this.sessions.start()
  }

  /** Stops the listening and the removal, and closes the store (its pending writes are flushed). */
  async stop(): Promise<void> {
    await this.sessions.stop()
    await this.#o.store.close()
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
   * Completes a login from the callback URL: checks state against the login cookie, exchanges the
   * code with the PKCE verifier, reads the user, and starts a server-side session.
   * @throws AppError UNAUTHENTICATED when anything does not match
   */
  async completeLogin(
    callbackUrl: URL,
    cookieHeader: string | null,
  ): Promise<{ user: SessionUser; sessionId: string; returnTo: string; setCookies: string[] }> {
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
    let user: SessionUser
    let tokens: { accessToken: string; refreshToken: string; expiresAt: number }
    try {
      const exchanged = await this.#o.oauth.exchangeCode(code, login.data.verifier)
      user = await this.#o.oauth.fetchUser(exchanged.accessToken)
      tokens = {
        accessToken: exchanged.accessToken,
        refreshToken: exchanged.refreshToken,
        expiresAt: exchanged.expiresAt,
      }
    } catch (error) {
      this.refusals.warn({ err: describeDiscordError(error) }, 'oauth callback failed')
      throw new AppError('UNAUTHENTICATED', { cause: error, detail: 'code exchange failed' })
    }
    // Signing in again in this browser replaces its earlier session. Its Discord authorization is
    // left alone: Discord may revoke a user's whole authorization of the app at once, the one just
    // granted included.
    const earlier = this.#sessionIdOf(cookieHeader)
    if (earlier) await this.sessions.end([earlier], { revokeDiscord: false })
    const { cookieValue, session } = await this.sessions.create(user, tokens)
    this.#o.logger.info({ userId: user.userId }, 'signed in')
    return {
      user,
      sessionId: session.id,
      returnTo: login.data.returnTo,
      // The session cookie goes last: Vite's dev server keeps only the last Set-Cookie of a
      // response, and the login cookie expires by itself within minutes anyway.
      setCookies: [this.clearCookie(LOGIN_COOKIE, '/auth'), this.sessionCookie(cookieValue)],
    }
  }

  /**
   * The session a Cookie header names: from this node's cache, else the store (no Discord call).
   * When its use was just recorded, `renewCookie` is the session cookie with a fresh lifetime.
   */
  async readSession(cookieHeader: string | null): Promise<CookieSession> {
    const value = readCookie(cookieHeader, SESSION_COOKIE)
    const found = await this.sessions.lookup(value)
    return found.state === 'active' && found.renewed && value
      ? { ...found, renewCookie: this.sessionCookie(value) }
      : found
  }

  /**
   * Signs out: ends the session on every node at once (its sockets close) and revokes its Discord
   * authorization (best effort). Returns the Set-Cookie value that clears the cookie.
   */
  async logout(cookieHeader: string | null): Promise<string> {
    const id = this.#sessionIdOf(cookieHeader)
    if (id) {
      const [ended] = await this.sessions.end([id], { revokeDiscord: true })
      if (ended) this.#o.logger.info({ userId: ended.user.userId }, 'signed out')
    }
    return this.clearCookie(SESSION_COOKIE)
  }

  /**
   * Signs out everywhere: ends every session of the signed-in user, on every node and in every
   * browser, and revokes their Discord authorizations (best effort). Returns the clearing cookie.
   */
  async logoutEverywhere(cookieHeader: string | null): Promise<string> {
    const found = await this.readSession(cookieHeader)
    if (found.state === 'active') {
      const userId = found.session.user.userId
      const ended = await this.sessions.endUser(userId, { revokeDiscord: true })
      this.#o.logger.info({ userId, sessions: ended.length }, 'signed out everywhere')
    }
    return this.clearCookie(SESSION_COOKIE)
  }

  /** The Set-Cookie value holding a session cookie value. */
  sessionCookie(cookieValue: string): string {
    return serializeCookie(SESSION_COOKIE, cookieValue, {
      maxAge: SESSION_COOKIE_TTL_S,
      secure: this.#o.secureCookies,
    })
  }

  /** A Set-Cookie value that deletes `name`. */
  clearCookie(name: string, path = '/'): string {
    return serializeCookie(name, '', { maxAge: 0, path, secure: this.#o.secureCookies })
  }

  /** The id of the session a Cookie header names, live or not (null when it names none of ours). */
  #sessionIdOf(cookieHeader: string | null): string | null {
    return this.sessions.idOf(readCookie(cookieHeader, SESSION_COOKIE))
  }
}

/** The public part of a session. */
export function sessionUser(session: { user: SessionUser }): SessionUser {
  return { ...session.user }
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
