import { createHash, randomBytes } from 'node:crypto'
import { API } from '@discordjs/core/http-only'
import { type APIUser, Routes } from 'discord-api-types/v10'
import { z } from 'zod'
import type { DiscordRest } from '../rest/discord-rest'
import { withDiscordRetry } from '../rest/retry'

/** The scopes we ask for: who you are, and permission to add you to the rooms guild. */
export const OAUTH_SCOPES = ['identify', 'guilds.join'] as const
/**
 * Community servers (ROOMS_COMMUNITY=1) also ask for `guilds`: which servers you are in, and
 * your permissions there (GET /users/@me/guilds).
 */
export const COMMUNITY_OAUTH_SCOPES = [...OAUTH_SCOPES, 'guilds'] as const

const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.number().positive(),
  scope: z.string(),
  token_type: z.string(),
})
/** Tokens as we keep them (server side only). */
export interface OAuthTokens {
  accessToken: string
  refreshToken: string
  /** Epoch ms. */
  expiresAt: number
  scopes: string[]
}

const UserSchema = z.object({
  id: z.string().regex(/^\d{17,20}$/),
  username: z.string().min(1).max(32),
  global_name: z.string().max(32).nullable().optional(),
  avatar: z.string().max(64).nullable().optional(),
})

/** The signed-in user as GET /users/@me describes them (validated). */
export interface OAuthUser {
  userId: string
  username: string
  globalName: string | null
  avatar: string | null
}

/** PKCE: a random verifier and its S256 challenge. */
export function createPkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  return { verifier, challenge }
}

/** A random URL-safe nonce. */
export function randomNonce(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

/** Options of {@link OAuthClient}. */
export interface OAuthClientOptions {
  rest: DiscordRest
  clientId: string
  clientSecret: string
  /** Where the authorize page lives (`DISCORD_WEB_URL`). */
  webUrl: string
  /** Our callback URL, registered with the application. */
  redirectUri: string
  now: () => number
  /** The scopes the authorize page asks for. @defaultValue {@link OAUTH_SCOPES} */
  scopes?: readonly string[]
}

/**
 * Discord OAuth2 (authorization code + PKCE), server side. Token calls go
 * through the shared REST instance (so DISCORD_API_URL applies); the authorize
 * URL is built from DISCORD_WEB_URL because @discordjs/core hard-codes discord.com.
 *
 * @see https://discord.com/developers/docs/topics/oauth2#authorization-code-grant
 */
export class OAuthClient {
  readonly #o: OAuthClientOptions
  readonly #api: API

  constructor(options: OAuthClientOptions) {
    this.#o = options
    this.#api = new API(options.rest)
  }

  /** The authorize page URL for a login attempt. */
  authorizeUrl(input: { state: string; codeChallenge: string }): string {
    const url = new URL('/oauth2/authorize', this.#o.webUrl)
    url.searchParams.set('response_type', 'code')
    url.searchParams.set('client_id', this.#o.clientId)
    url.searchParams.set('scope', (this.#o.scopes ?? OAUTH_SCOPES).join(' '))
    url.searchParams.set('state', input.state)
    url.searchParams.set('redirect_uri', this.#o.redirectUri)
    url.searchParams.set('code_challenge', input.codeChallenge)
    url.searchParams.set('code_challenge_method', 'S256')
    url.searchParams.set('prompt', 'consent')
    return url.toString()
  }

  /** Exchanges an authorization code (with its PKCE verifier) for tokens. */
  async exchangeCode(code: string, codeVerifier: string): Promise<OAuthTokens> {
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.#o.redirectUri,
      code_verifier: codeVerifier,
      client_id: this.#o.clientId,
      client_secret: this.#o.clientSecret,
    })
    // One attempt: the code is single-use, so a retry after a 5xx that consumed it
    // could only fail with invalid_grant.
    const raw = await withDiscordRetry(
      () =>
        this.#o.rest.post(Routes.oauth2TokenExchange(), {
          body,
          passThroughBody: true,
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          auth: false,
        }),
      { attempts: 1 },
    )
    return this.#tokens(raw)
  }

  /** Exchanges a refresh token for a new token pair. */
  async refresh(refreshToken: string): Promise<OAuthTokens> {
    // One attempt, like the code exchange: a refresh token is single-use too.
    const raw = await withDiscordRetry(
      () =>
        this.#api.oauth2.refreshToken({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: this.#o.clientId,
          client_secret: this.#o.clientSecret,
        }),
      { attempts: 1 },
    )
    return this.#tokens(raw)
  }

  /** Revokes the authorization (every token of it). */
  async revoke(token: string): Promise<void> {
    await withDiscordRetry(() =>
      this.#api.oauth2.revokeToken(this.#o.clientId, this.#o.clientSecret, {
        token,
        token_type_hint: 'refresh_token',
      }),
    )
  }

  /** GET /users/@me with the user's bearer token. */
  async fetchUser(accessToken: string): Promise<OAuthUser> {
    const raw = (await withDiscordRetry(() =>
      this.#o.rest.get(Routes.user(), {
        auth: false,
        headers: { Authorization: `Bearer ${accessToken}` },
      }),
    )) as APIUser
    const user = UserSchema.parse(raw)
    return {
      userId: user.id,
      username: user.username,
      globalName: user.global_name ?? null,
      avatar: user.avatar ?? null,
    }
  }

  #tokens(raw: unknown): OAuthTokens {
    const parsed = TokenResponseSchema.parse(raw)
    return {
      accessToken: parsed.access_token,
      refreshToken: parsed.refresh_token,
      expiresAt: this.#o.now() + parsed.expires_in * 1000,
      scopes: parsed.scope.split(' ').filter(Boolean),
    }
  }
}
