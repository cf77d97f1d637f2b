import { RestError } from '../rest/errors.ts'
import { type RestContext, type RouteDef, route } from '../rest/route.ts'
import type { OAuthApp } from './oauth-store.ts'

const oauthError = (status: number, error: string, description: string) =>
  new RestError(status, { error, error_description: description })

/** Parses the form body; Discord accepts only application/x-www-form-urlencoded. */
function form(ctx: RestContext): URLSearchParams {
  const type = String(ctx.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
  if (type !== 'application/x-www-form-urlencoded') {
    throw oauthError(400, 'unsupported_grant_type', 'Unsupported grant type')
  }
  return new URLSearchParams(ctx.rawBody.toString('utf8'))
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
    return {
      status: 200,
      body: {
        application: {
          id: auth.clientId,
          name: app?.name ?? '',
          icon: null,
          description: '',
          bot_public: false,
          bot_require_code_grant: false,
          verify_key: '',
          flags: 0,
        },
        scopes: auth.scopes,
        expires: new Date(auth.expiresAt).toISOString(),
        ...(auth.scopes.includes('identify') ? { user: rt.world.apiUser(auth.userId) } : {}),
      },
    }
  }),
  route('POST', '/oauth2/token', 'none', (ctx) => {
    const body = form(ctx)
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
    throw oauthError(400, 'unsupported_grant_type', 'Unsupported grant type')
  }),
  route('POST', '/oauth2/token/revoke', 'none', (ctx) => {
    const body = form(ctx)
    const app = authenticateClient(ctx, body)
    const token = body.get('token')
    if (!token) throw oauthError(400, 'invalid_request', 'Missing "token" in request.')
    ctx.rt.oauth.revoke(token, app.id)
    return { status: 200, body: {} }
  }),
]
