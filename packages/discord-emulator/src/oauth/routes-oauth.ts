import { RestError } from '../rest/errors.ts'
import { type RestContext, type RouteDef, route } from '../rest/route.ts'
import { toApiApplication } from '../world/application.ts'
import { KNOWN_SCOPES, type OAuthApp } from './oauth-store.ts'

const oauthError = (status: number, error: string, description: string) =>
  new RestError(status, { error, error_description: description })

/**
 * Parses the form body. The docs allow only application/x-www-form-urlencoded and refuse JSON
 * (docs topics/oauth2 "Shared Resources"); Discord's framework also parses multipart/form-data
 * there, which libraries such as Oceanic.js send (discord/discord-api-docs#2206).
 */
async function form(ctx: RestContext): Promise<URLSearchParams> {
  const header = String(ctx.headers['content-type'] ?? '')
  const type = header.split(';')[0]?.trim().toLowerCase()
  if (type === 'application/x-www-form-urlencoded') {
    return new URLSearchParams(ctx.rawBody.toString('utf8'))
  }
  if (type === 'multipart/form-data') {
    try {
      const parsed = await new Response(new Uint8Array(ctx.rawBody), {
        headers: { 'content-type': header },
      }).formData()
      const params = new URLSearchParams()
      for (const [k, v] of parsed) if (typeof v === 'string') params.append(k, v)
      return params
    } catch {
      // A malformed multipart body reads as no fields at all.
      return new URLSearchParams()
    }
  }
  // What Discord answers when it finds no grant_type it can read (e.g. a JSON body).
  throw oauthError(400, 'unsupported_grant_type', 'Unsupported grant type')
}

/** Client authentication: HTTP Basic or client_id/client_secret form fields. */
function authenticateClient(ctx: RestContext, body: URLSearchParams): OAuthApp {
  let id = body.get('client_id')
  let secret = body.get('client_secret')
  const header = ctx.headers.authorization
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    id = decodeURIComponent(decoded.slice(0, colon))
    secret = decodeURIComponent(decoded.slice(colon + 1))
  }
  const app = ctx.rt.apps().find((a) => a.id === id)
  if (!app || !secret || app.secret !== secret)
    throw oauthError(401, 'invalid_client', 'Unknown client')
  return app
}

/** POST /oauth2/token, /oauth2/token/revoke and GET /oauth2/@me. */
export const oauthRoutes: RouteDef[] = [
  route('GET', '/oauth2/@me', 'bearer', ({ auth, rt }) => {
    if (auth.kind !== 'bearer') throw oauthError(401, 'invalid_token', 'Invalid token')
    const app = rt.apps().find((a) => a.id === auth.clientId)
    const w = rt.world
    const bot = w.users.get(w.botUserId)
    // The bot's own application reads as in GET /applications/@me (same verify_key and flags).
    const full =
      app?.id === w.application.id && bot
        ? toApiApplication(w.application, bot, w.users.get(w.ownerId))
        : null
    return {
      status: 200,
      body: {
        application: {
          id: auth.clientId,
          name: app?.name ?? '',
          icon: null,
          description: full?.description ?? '',
          bot_public: full?.bot_public ?? false,
          bot_require_code_grant: full?.bot_require_code_grant ?? false,
          verify_key: full?.verify_key ?? '',
          flags: full?.flags ?? 0,
        },
        scopes: auth.scopes,
        expires: new Date(auth.expiresAt).toISOString(),
        ...(auth.scopes.includes('identify') ? { user: rt.world.apiUser(auth.userId) } : {}),
      },
    }
  }),
  route('POST', '/oauth2/token', 'none', async (ctx) => {
    const body = await form(ctx)
    const grantType = body.get('grant_type')
    const app = authenticateClient(ctx, body)
    if (grantType === 'authorization_code') {
      const code = body.get('code')
      if (!code) throw oauthError(400, 'invalid_request', 'Missing "code" in request.')
      const result = ctx.rt.oauth.takeCode(
        code,
        app.id,
        body.get('redirect_uri') ?? undefined,
        body.get('code_verifier') ?? undefined,
      )
      if (!result.grant)
        throw oauthError(400, 'invalid_grant', result.error ?? 'Invalid "code" in request.')
      return { status: 200, body: ctx.rt.oauth.issue(result.grant) }
    }
    if (grantType === 'refresh_token') {
      const refreshToken = body.get('refresh_token')
      if (!refreshToken)
        throw oauthError(400, 'invalid_request', 'Missing "refresh_token" in request.')
      const tokens = ctx.rt.oauth.refresh(refreshToken, app.id)
      if (!tokens) throw oauthError(400, 'invalid_grant', 'Invalid "refresh_token" in request.')
      return { status: 200, body: tokens }
    }
    if (grantType === 'client_credentials') {
      // A token for the application's owner, without a refresh token, for Basic-authenticated
      // clients only (docs topics/oauth2 "Client Credentials Grant").
      if (!String(ctx.headers.authorization ?? '').startsWith('Basic ')) {
        throw oauthError(401, 'invalid_client', 'Unknown client')
      }
      const scopes = (body.get('scope') ?? '').split(' ').filter(Boolean)
      if (scopes.length === 0 || scopes.some((s) => !KNOWN_SCOPES.has(s))) {
        throw oauthError(
          400,
          'invalid_scope',
          'The requested scope is invalid, unknown, or malformed.',
        )
      }
      const tokens = ctx.rt.oauth.issue({ userId: ctx.rt.world.ownerId, clientId: app.id, scopes })
      const { refresh_token: _dropped, ...withoutRefresh } = tokens
      return { status: 200, body: withoutRefresh }
    }
    throw oauthError(400, 'unsupported_grant_type', 'Unsupported grant type')
  }),
  route('POST', '/oauth2/token/revoke', 'none', async (ctx) => {
    const body = await form(ctx)
    const app = authenticateClient(ctx, body)
    const token = body.get('token')
    if (!token) throw oauthError(400, 'invalid_request', 'Missing "token" in request.')
    ctx.rt.oauth.revoke(token, app.id)
    return { status: 200, body: {} }
  }),
]
