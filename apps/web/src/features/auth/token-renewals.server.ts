import {
  describeDiscordError,
  isRevokedAuthorization,
  type OAuthClient,
  toDiscordFailure,
} from '@repo/discord-integration'
import type { Logger } from 'pino'
import { AppError } from '../../server/app-error'
import type { DiscordTokens, LoginSession, LoginSessionStore } from './login-session'
import type { SessionCache } from './session-cache'
import type { SessionTokens } from './session-tokens.server'

/** Renew the Discord access token when it has less than this left. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000

/** What {@link TokenRenewals} needs. */
export interface TokenRenewalsDeps {
  store: LoginSessionStore
  oauth: Pick<OAuthClient, 'refresh'>
  tokens: SessionTokens
  /** This node's session cache, given each session the store answers with. */
  cache: SessionCache
  /** Ends the session on every node (without revoking at Discord). */
  endSession: (id: string) => Promise<unknown>
  now: () => number
  logger: Logger
}

/**
 * Renews sessions' Discord tokens when close to expiry: one renewal per session at a time on this
 * node; another node's renewal is picked up from the store.
 */
export class TokenRenewals {
  readonly #d: TokenRenewalsDeps
  readonly #renewals = new Map<string, Promise<DiscordTokens>>()

  constructor(deps: TokenRenewalsDeps) {
    this.#d = deps
  }

  /**
   * The session's Discord tokens, renewed first when the access token is close to expiry.
   * @throws AppError SESSION_EXPIRED when the session ended meanwhile; DISCORD_AUTH_REVOKED when
   *   Discord refused the renewal (the session is then ended); DISCORD_UNAVAILABLE or RATE_LIMITED
   *   when Discord could not answer (the session is kept)
   */
  async fresh(session: LoginSession): Promise<DiscordTokens> {
    const now = this.#d.now()
    const tokens = this.#d.tokens.open(session)
    if (tokens && tokens.expiresAt - now > REFRESH_MARGIN_MS) return tokens
    // Another node may have renewed them already: the store has the latest.
    const stored = await this.#d.store.get(session.id, now)
    const storedTokens = stored ? this.#d.tokens.open(stored) : null
    if (!stored || !storedTokens) {
      await this.#d.endSession(session.id)
      throw new AppError('SESSION_EXPIRED', { detail: 'session gone before its tokens were read' })
    }
    this.#d.cache.set(stored)
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

  async #renew(session: LoginSession, tokens: DiscordTokens): Promise<DiscordTokens> {
    const { logger, oauth, store, cache } = this.#d
    const sealed = this.#d.tokens
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
      const latest = await store.get(session.id, this.#d.now())
      const latestTokens = latest && latest.tokens !== session.tokens ? sealed.open(latest) : null
      if (latest && latestTokens) {
        cache.set(latest)
        return latestTokens
      }
      logger.info(
        { userId: session.user.userId, err: describeDiscordError(error) },
        'discord refused the session token renewal: session ended',
      )
      await this.#d.endSession(session.id)
      throw new AppError('DISCORD_AUTH_REVOKED', { cause: error })
    }
    const stored = await store.update(session.id, this.#d.now(), (s) =>
      s.tokens === session.tokens ? { ...s, tokens: sealed.seal(renewed, s.id) } : undefined,
    )
    if (!stored) {
      // Ended while Discord answered: the new authorization must not outlive it.
      await sealed.revoke({ ...session, tokens: sealed.seal(renewed, session.id) })
      throw new AppError('SESSION_EXPIRED', { detail: 'session ended during token renewal' })
    }
    cache.set(stored)
    logger.debug({ userId: session.user.userId }, 'renewed discord token')
    return renewed
  }
}
