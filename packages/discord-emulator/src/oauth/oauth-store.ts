import { createHash, randomBytes } from 'node:crypto'

/** An OAuth2 application known to the emulator. */
export interface OAuthApp {
  id: string
  secret: string
  name: string
  /** Empty = any http(s) URI on a loopback host. */
  redirectUris: string[]
}

/** What an access token grants. */
export interface TokenGrant {
  userId: string
  clientId: string
  scopes: string[]
}

/** A live access token's grant plus its expiry (epoch ms). */
export interface AccessGrant extends TokenGrant {
  expiresAt: number
}

interface Authorization extends TokenGrant {
  id: string
}

interface AuthCode extends TokenGrant {
  redirectUri: string
  expiresAt: number
  challenge: string | null
}

/** Scopes Discord knows (a subset; anything else is `invalid_scope`). */
export const KNOWN_SCOPES = new Set([
  'identify',
  'email',
  'guilds',
  'guilds.join',
  'guilds.members.read',
  'connections',
  'openid',
  'bot',
  'applications.commands',
])

const token = (bytes = 24) => randomBytes(bytes).toString('base64url')

/** S256 of a PKCE verifier (base64url, no padding). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

/**
 * Codes, access tokens and refresh tokens. Codes are single-use and live 10 minutes; refresh
 * rotates both tokens; revoking any token ends its whole authorization.
 */
export class OAuthStore {
  readonly #codes = new Map<string, AuthCode>()
  readonly #access = new Map<string, { authId: string; expiresAt: number }>()
  readonly #refresh = new Map<string, string>()
  readonly #auths = new Map<string, Authorization>()

  constructor(public accessTtlSeconds: number) {}

  isRedirectAllowed(app: OAuthApp, uri: string): boolean {
    if (app.redirectUris.length > 0) return app.redirectUris.includes(uri)
    try {
      const u = new URL(uri)
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)
      return (u.protocol === 'http:' || u.protocol === 'https:') && loopback
    } catch {
      return false
    }
  }

  createCode(grant: TokenGrant, redirectUri: string, challenge: string | null): string {
    const code = token(20)
    this.#codes.set(code, { ...grant, redirectUri, challenge, expiresAt: Date.now() + 600_000 })
    return code
  }

  /** Consumes a code (single use). Returns null or the reason it is invalid. */
  takeCode(
    code: string,
    clientId: string,
    redirectUri: string | undefined,
    verifier: string | undefined,
  ) {
    const entry = this.#codes.get(code)
    this.#codes.delete(code)
    if (!entry || entry.expiresAt < Date.now() || entry.clientId !== clientId) {
      return { error: 'Invalid "code" in request.' as const }
    }
    if (redirectUri !== entry.redirectUri) {
      return { error: 'Invalid "redirect_uri" in request.' as const }
    }
    if (entry.challenge !== null) {
      if (!verifier || pkceChallenge(verifier) !== entry.challenge) {
        return { error: 'Invalid "code_verifier" in request.' as const }
      }
    }
    return { grant: { userId: entry.userId, clientId: entry.clientId, scopes: entry.scopes } }
  }

  /** Issues an access + refresh token pair for a new authorization. */
  issue(grant: TokenGrant, ttlSeconds = this.accessTtlSeconds) {
    const auth: Authorization = { ...grant, id: token(12) }
    this.#auths.set(auth.id, auth)
    return this.#mint(auth, ttlSeconds)
  }

  #mint(auth: Authorization, ttlSeconds: number) {
    const accessToken = token()
    const refreshToken = token()
    this.#access.set(accessToken, { authId: auth.id, expiresAt: Date.now() + ttlSeconds * 1000 })
    this.#refresh.set(refreshToken, auth.id)
    return {
      access_token: accessToken,
      token_type: 'Bearer' as const,
      expires_in: ttlSeconds,
      refresh_token: refreshToken,
      scope: auth.scopes.join(' '),
    }
  }

  /** Rotates tokens with a refresh token of this client; null if invalid. */
  refresh(refreshToken: string, clientId: string) {
    const authId = this.#refresh.get(refreshToken)
    const auth = authId ? this.#auths.get(authId) : undefined
    if (!auth || auth.clientId !== clientId) return null
    this.#dropTokens(auth.id)
    return this.#mint(auth, this.accessTtlSeconds)
  }

  /** The grant behind a live access token. */
  lookup(accessToken: string): AccessGrant | null {
    const entry = this.#access.get(accessToken)
    if (!entry || entry.expiresAt <= Date.now()) return null
    const auth = this.#auths.get(entry.authId)
    if (!auth) return null
    return {
      userId: auth.userId,
      clientId: auth.clientId,
      scopes: auth.scopes,
      expiresAt: entry.expiresAt,
    }
  }

  /** Revokes the authorization an access or refresh token belongs to (if it is this client's). */
  revoke(anyToken: string, clientId: string): void {
    const authId = this.#access.get(anyToken)?.authId ?? this.#refresh.get(anyToken)
    const auth = authId ? this.#auths.get(authId) : undefined
    if (!auth || auth.clientId !== clientId) return
    this.#dropTokens(auth.id)
    this.#auths.delete(auth.id)
  }

  /**
   * Ends every authorization `userId` gave application `clientId` (the user removing the app under
   * Settings › Authorized Apps); returns how many there were.
   */
  deauthorize(userId: string, clientId: string): number {
    let ended = 0
    for (const auth of [...this.#auths.values()]) {
      if (auth.userId !== userId || auth.clientId !== clientId) continue
      this.#dropTokens(auth.id)
      this.#auths.delete(auth.id)
      ended++
    }
    return ended
  }

  #dropTokens(authId: string): void {
    for (const [t, e] of this.#access) if (e.authId === authId) this.#access.delete(t)
    for (const [t, a] of this.#refresh) if (a === authId) this.#refresh.delete(t)
  }

  clear(): void {
    this.#codes.clear()
    this.#access.clear()
    this.#refresh.clear()
    this.#auths.clear()
  }
}
