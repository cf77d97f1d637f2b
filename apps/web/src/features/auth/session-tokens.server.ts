import { describeDiscordError, type OAuthClient } from '@repo/discord-integration'
import type { Logger } from 'pino'
import { type DiscordTokens, DiscordTokensSchema, type LoginSession } from './login-session'
import type { SessionKeys } from './session-keys.server'

/** What {@link SessionTokens} needs. */
export interface SessionTokensDeps {
  keys: SessionKeys
  oauth: Pick<OAuthClient, 'revoke'>
  logger: Logger
}

/**
 * A session's Discord tokens at rest: sealed with the session keys for that session only, opened
 * (and validated) when used, and revoked at Discord when the session ends for good.
 */
export class SessionTokens {
  readonly #d: SessionTokensDeps

  constructor(deps: SessionTokensDeps) {
    this.#d = deps
  }

  /** The tokens sealed for session `id` (what {@link LoginSession.tokens} holds). */
  seal(tokens: DiscordTokens, id: string): string {
    return this.#d.keys.seal(JSON.stringify(tokens), id)
  }

  /** The session's tokens; null when they cannot be opened (another secret) or are not valid. */
  open(session: LoginSession): DiscordTokens | null {
    const plain = this.#d.keys.open(session.tokens, session.id)
    if (plain === null) return null
    const parsed = DiscordTokensSchema.safeParse(JSON.parse(plain))
    return parsed.success ? parsed.data : null
  }

  /** Revokes the session's Discord authorization (best effort: a failure is logged). */
  async revoke(session: LoginSession): Promise<void> {
    const tokens = this.open(session)
    if (!tokens) return
    try {
      await this.#d.oauth.revoke(tokens.refreshToken)
    } catch (error) {
      this.#d.logger.warn({ err: describeDiscordError(error) }, 'discord token revoke failed')
    }
  }
}
