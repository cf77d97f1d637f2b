import type { IncomingMessage, ServerResponse } from 'node:http'
import { PermissionFlagsBits } from 'discord-api-types/v10'
import { esc, redirect, sendHtml } from '../rest/http.ts'
import type { Runtime } from '../runtime.ts'
import { addBotToGuild } from '../world/bot-membership.ts'
import { has } from '../world/permissions.ts'
import { KNOWN_SCOPES } from './oauth-store.ts'

/** Cookie remembering which emulated user approved OAuth last in this browser. */
export const USER_COOKIE = 'emu_user'

function withParams(uri: string, params: Record<string, string | null>): string {
  const u = new URL(uri)
  for (const [k, v] of Object.entries(params)) if (v !== null) u.searchParams.set(k, v)
  return u.toString()
}

/** Scopes of the bot authorization flow, which needs no redirect (docs topics/oauth2 "Bot Authorization Flow"). */
const BOT_FLOW_SCOPES = new Set(['bot', 'applications.commands'])

/**
 * GET /oauth2/authorize: validates the request like Discord, then shows a user picker. With
 * `user_id` it approves at once (automation) and remembers the user in a cookie; `deny=1`
 * answers access_denied. Supports the authorization code grant (with PKCE), the implicit grant
 * (`response_type=token`, token in the fragment) and the bot authorization flow (`scope=bot`,
 * `permissions`, `guild_id`): approving installs the bot in the guild with those permissions.
 */
export function handleAuthorize(rt: Runtime, req: IncomingMessage, res: ServerResponse): void {
  const q = new URL(req.url ?? '/', 'http://x').searchParams
  const app = rt.apps().find((a) => a.id === q.get('client_id'))
  if (!app) {
    sendHtml(res, 400, page('Unknown Application', '<p>Invalid client_id.</p>'))
    return
  }
  const scopes = (q.get('scope') ?? '').split(/[ +]/).filter(Boolean)
  const botFlow = scopes.length > 0 && scopes.every((s) => BOT_FLOW_SCOPES.has(s))
  const redirectUri = q.get('redirect_uri')
  const redirectOk = redirectUri !== null && rt.oauth.isRedirectAllowed(app, redirectUri)
  if (redirectUri !== null ? !redirectOk : !botFlow) {
    sendHtml(res, 400, page('Invalid OAuth2 redirect_uri', '<p>Invalid OAuth2 redirect_uri</p>'))
    return
  }
  const state = q.get('state')
  const responseType = q.get('response_type')
  const fail = (error: string, description: string) => {
    if (redirectUri === null) {
      sendHtml(res, 400, page('Authorization failed', `<p>${esc(description)}</p>`))
      return
    }
    redirect(res, withParams(redirectUri, { error, error_description: description, state }))
  }
  if (!botFlow && responseType !== 'code' && responseType !== 'token') {
    fail(
      'unsupported_response_type',
      'The authorization server does not support this response type.',
    )
    return
  }
  if (scopes.length === 0 || scopes.some((s) => !KNOWN_SCOPES.has(s))) {
    fail('invalid_scope', 'The requested scope is invalid, unknown, or malformed.')
    return
  }
  const challenge = q.get('code_challenge')
  const method = q.get('code_challenge_method')
  if (challenge !== null && method !== 'S256') {
    fail('invalid_request', 'Invalid code_challenge_method, only S256 is supported.')
    return
  }
  const permissions = q.get('permissions') ?? '0'
  // The guild to install the bot in: `guild_id` (any emulated guild), else the default guild.
  const target = rt.world.guild(q.get('guild_id') ?? rt.world.guildId)
  if (scopes.includes('bot')) {
    if (app.id !== rt.world.botUserId || !/^\d{1,30}$/.test(permissions) || !target) {
      fail('invalid_request', 'Invalid bot authorization request.')
      return
    }
  }
  if (q.get('deny') === '1') {
    fail('access_denied', 'The resource owner or authorization server denied the request')
    return
  }
  const userId = q.get('user_id')
  if (userId === null) {
    showPicker(rt, res, q, app.name, scopes)
    return
  }
  const user = rt.world.users.get(userId)
  if (!user || user.bot) {
    sendHtml(res, 400, page('Unknown user', '<p>No such emulated user.</p>'))
    return
  }
  const cookie = { 'set-cookie': `${USER_COOKIE}=${userId}; Path=/; SameSite=Lax` }
  let installed: Record<string, string> = {}
  if (scopes.includes('bot') && target) {
    // Adding a bot needs Manage Server in the guild (docs resources/application "Server Context").
    if (!has(target.basePermissions(userId), PermissionFlagsBits.ManageGuild)) {
      sendHtml(
        res,
        403,
        page('Missing permissions', '<p>You need Manage Server to add the app.</p>'),
      )
      return
    }
    addBotToGuild(target, BigInt(permissions))
    installed = { guild_id: target.id, permissions }
  }
  if (redirectUri === null) {
    const where = target?.name ?? ''
    const body = `<p><strong>${esc(app.name)}</strong> was added to <strong>${esc(where)}</strong>.</p>`
    sendHtml(res, 200, page('Authorized', body), cookie)
    return
  }
  if (responseType === 'token') {
    // Implicit grant: the token travels in the fragment, without a refresh token.
    const t = rt.oauth.issue({ userId, clientId: app.id, scopes })
    const fragment = new URLSearchParams({
      access_token: t.access_token,
      token_type: t.token_type,
      expires_in: String(t.expires_in),
      scope: t.scope,
      ...(state !== null ? { state } : {}),
    })
    redirect(res, `${redirectUri.split('#')[0]}#${fragment}`, 302, cookie)
    return
  }
  const code =
    responseType === 'code'
      ? rt.oauth.createCode({ userId, clientId: app.id, scopes }, redirectUri, challenge)
      : null
  redirect(res, withParams(redirectUri, { code, state, ...installed }), 302, cookie)
}

function showPicker(
  rt: Runtime,
  res: ServerResponse,
  q: URLSearchParams,
  appName: string,
  scopes: string[],
): void {
  const hidden = [...q.entries()]
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('')
  const users = [...rt.world.users.values()]
    .filter((u) => !u.bot)
    .map(
      (u) =>
        `<li><button name="user_id" value="${u.id}" aria-label="Authorize as ${esc(u.username)}">` +
        `${esc(u.globalName ?? u.username)} <small>@${esc(u.username)}</small></button></li>`,
    )
    .join('')
  // The bot authorization flow without `guild_id` lets the person pick the server, as Discord's does.
  const guilds = [
    rt.world.defaultGuild,
    ...[...rt.world.guilds.values()].filter((g) => g.id !== rt.world.guildId),
  ]
  const guildSelect =
    scopes.includes('bot') && !q.has('guild_id')
      ? `<p><label>Add to server <select name="guild_id" aria-label="Add to server">${guilds
          .map((g) => `<option value="${g.id}">${esc(g.name)}</option>`)
          .join('')}</select></label></p>`
      : ''
  const body = `<p><strong>${esc(appName)}</strong> wants to access your account.</p>
<p>Scopes: ${scopes.map((s) => `<code>${esc(s)}</code>`).join(' ')}</p>
<form method="get" action="/oauth2/authorize">${hidden}${guildSelect}<p>Continue as:</p><ul>${users}</ul></form>
<form method="get" action="/oauth2/authorize">${hidden}<button name="deny" value="1">Cancel</button></form>`
  sendHtml(res, 200, page('Authorize', body))
}

/** Shared page chrome. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Discord emulator</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;background:#313338;color:#dbdee1}
button{background:#5865f2;color:#fff;border:0;border-radius:4px;padding:.5rem 1rem;margin:.2rem;cursor:pointer}
button.secondary{background:#4e5058}ul{list-style:none;padding:0}li{margin:.3rem 0}code{background:#1e1f22;padding:0 .3rem}
table{border-collapse:collapse}td,th{border:1px solid #4e5058;padding:.2rem .5rem;text-align:left}a{color:#00a8fc}
input,select{background:#1e1f22;color:#dbdee1;border:1px solid #4e5058;padding:.3rem}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`
}
