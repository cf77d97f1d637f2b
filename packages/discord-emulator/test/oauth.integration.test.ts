import { randomBytes } from 'node:crypto'
import { API } from '@discordjs/core/http-only'
import { REST } from '@discordjs/rest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_WORLD, type Emulator } from '../src/index.ts'
import { pkceChallenge } from '../src/oauth/oauth-store.ts'
import { startTestEmulator, W } from './support/helpers.ts'

const REDIRECT = 'http://localhost:3000/auth/callback'

describe('OAuth2', () => {
  let emu: Emulator
  beforeEach(async () => {
    emu = await startTestEmulator()
  })
  afterEach(async () => {
    await emu.close()
  })

  const authorizeUrl = (params: Record<string, string>) => {
    const q = new URLSearchParams({
      client_id: emu.clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'identify guilds.join',
      state: 'st@te/with+chars',
      ...params,
    })
    return `${emu.webUrl}/oauth2/authorize?${q}`
  }
  const authorize = async (params: Record<string, string> = {}) => {
    const res = await fetch(authorizeUrl({ user_id: W.memberA, ...params }), { redirect: 'manual' })
    return { res, location: new URL(res.headers.get('location') ?? 'http://invalid/') }
  }
  const token = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${emu.restBase}/v10/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    })
  const basic = () => ({
    authorization: `Basic ${Buffer.from(`${emu.clientId}:${emu.clientSecret}`).toString('base64')}`,
  })

  it('authorize with user_id redirects with a code, passes state unchanged and sets the user cookie', async () => {
    const { res, location } = await authorize()
    expect(res.status).toBe(302)
    expect(location.origin + location.pathname).toBe(REDIRECT)
    expect(location.searchParams.get('state')).toBe('st@te/with+chars')
    expect(location.searchParams.get('code')).toMatch(/^[\w-]{20,}$/)
    expect(res.headers.get('set-cookie')).toContain(`emu_user=${W.memberA}`)
  })

  it('authorize shows a user picker, and validates client, redirect, response type and scope', async () => {
    const page = await fetch(authorizeUrl({}))
    const html = await page.text()
    expect(page.status).toBe(200)
    for (const u of DEFAULT_WORLD.users) expect(html).toContain(u.username)
    expect(html).toContain(`value="${W.memberA}"`)
    expect((await fetch(authorizeUrl({ client_id: '123456789012345678' }))).status).toBe(400)
    expect((await fetch(authorizeUrl({ redirect_uri: 'https://evil.example/cb' }))).status).toBe(
      400,
    )
    const rt = await authorize({ response_type: 'id_token' })
    expect(rt.location.searchParams.get('error')).toBe('unsupported_response_type')
    expect(rt.location.searchParams.get('state')).toBe('st@te/with+chars')
    expect((await authorize({ scope: 'identify bogus' })).location.searchParams.get('error')).toBe(
      'invalid_scope',
    )
    const denied = await fetch(authorizeUrl({ deny: '1' }), { redirect: 'manual' })
    expect(new URL(denied.headers.get('location')!).searchParams.get('error')).toBe('access_denied')
  })

  it('exchanges a code (HTTP Basic) once, and the token works for /users/@me', async () => {
    const { location } = await authorize()
    const code = location.searchParams.get('code')!
    const res = await token(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT },
      basic(),
    )
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      access_token: string
      token_type: string
      expires_in: number
      scope: string
      refresh_token: string
    }
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 604800,
      scope: 'identify guilds.join',
    })
    const me = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    })
    expect(((await me.json()) as { id: string }).id).toBe(W.memberA)
    const reuse = await token(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT },
      basic(),
    )
    expect(reuse.status).toBe(400)
    expect(await reuse.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid "code" in request.',
    })
  })

  it('works through @discordjs/core (form fields for client auth) and /api/oauth2/token without version', async () => {
    const { location } = await authorize()
    const oauth = new API(new REST({ api: emu.restBase })).oauth2
    const tokens = await oauth.tokenExchange({
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
      grant_type: 'authorization_code',
      code: location.searchParams.get('code')!,
      redirect_uri: REDIRECT,
    })
    const info = await new API(
      new REST({ api: emu.restBase, authPrefix: 'Bearer' }).setToken(tokens.access_token),
    ).oauth2.getCurrentAuthorizationInformation()
    expect(info.user?.id).toBe(W.memberA)
    const refreshed = await fetch(`${emu.webUrl}/api/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic() },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
      }),
    })
    expect(refreshed.status).toBe(200)
  })

  it('supports PKCE (S256)', async () => {
    const verifier = randomBytes(32).toString('base64url')
    const challenge = pkceChallenge(verifier)
    const a = await authorize({ code_challenge: challenge, code_challenge_method: 'S256' })
    const wrong = await token(
      {
        grant_type: 'authorization_code',
        code: a.location.searchParams.get('code')!,
        redirect_uri: REDIRECT,
        code_verifier: 'nope',
      },
      basic(),
    )
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_grant')
    const b = await authorize({ code_challenge: challenge, code_challenge_method: 'S256' })
    const ok = await token(
      {
        grant_type: 'authorization_code',
        code: b.location.searchParams.get('code')!,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      },
      basic(),
    )
    expect(ok.status).toBe(200)
    expect(
      (
        await authorize({ code_challenge: challenge, code_challenge_method: 'plain' })
      ).location.searchParams.get('error'),
    ).toBe('invalid_request')
  })

  it('refresh rotates tokens; access tokens expire after the configured TTL', async () => {
    await emu.close()
    emu = await startTestEmulator({ oauthAccessTokenTtlSeconds: 1 })
    const { location } = await authorize()
    const first = (await (
      await token(
        {
          grant_type: 'authorization_code',
          code: location.searchParams.get('code')!,
          redirect_uri: REDIRECT,
        },
        basic(),
      )
    ).json()) as { access_token: string; refresh_token: string; expires_in: number }
    expect(first.expires_in).toBe(1)
    await new Promise((r) => setTimeout(r, 1100))
    const expired = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bearer ${first.access_token}` },
    })
    expect(expired.status).toBe(401)
    const second = (await (
      await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, basic())
    ).json()) as { access_token: string; refresh_token: string }
    expect(second.refresh_token).not.toBe(first.refresh_token)
    const me = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bearer ${second.access_token}` },
    })
    expect(me.status).toBe(200)
    const old = await token(
      { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      basic(),
    )
    expect(((await old.json()) as { error: string }).error).toBe('invalid_grant')
  })

  it('GET /users/@me/guilds needs the guilds scope and lists the guild for members only', async () => {
    const member = emu.control.issueAccessToken({
      userId: W.memberA,
      scopes: ['identify', 'guilds'],
    })
    const res = await fetch(`${emu.restBase}/v10/users/@me/guilds`, {
      headers: { authorization: `Bearer ${member.accessToken}` },
    })
    expect(
      ((await res.json()) as { id: string; owner: boolean }[]).map((g) => [g.id, g.owner]),
    ).toEqual([[W.guild, false]])
    const outsider = emu.control.issueAccessToken({ userId: W.nonMember, scopes: ['guilds'] })
    const none = await fetch(`${emu.restBase}/v10/users/@me/guilds`, {
      headers: { authorization: `Bearer ${outsider.accessToken}` },
    })
    expect(await none.json()).toEqual([])
    const noScope = emu.control.issueAccessToken({ userId: W.memberA, scopes: ['identify'] })
    const denied = await fetch(`${emu.restBase}/v10/users/@me/guilds`, {
      headers: { authorization: `Bearer ${noScope.accessToken}` },
    })
    expect(denied.status).toBe(401)
  })

  it('revoke ends the authorization', async () => {
    const t = emu.control.issueAccessToken({ userId: W.memberB, scopes: ['identify'] })
    const res = await fetch(`${emu.restBase}/v10/oauth2/token/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic() },
      body: new URLSearchParams({ token: t.accessToken, token_type_hint: 'access_token' }),
    })
    expect(res.status).toBe(200)
    const me = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bearer ${t.accessToken}` },
    })
    expect(me.status).toBe(401)
    expect(
      (await token({ grant_type: 'refresh_token', refresh_token: t.refreshToken }, basic())).status,
    ).toBe(400)
  })

  it('deauthorize (the user removes the app) ends every authorization of that user for that app only', async () => {
    const first = emu.control.issueAccessToken({ userId: W.memberB, scopes: ['identify'] })
    const second = emu.control.issueAccessToken({ userId: W.memberB, scopes: ['identify'] })
    const other = emu.control.issueAccessToken({ userId: W.memberA, scopes: ['identify'] })
    const res = await fetch(`${emu.webUrl}/_emulator/oauth/deauthorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: W.memberB }),
    })
    expect(await res.json()).toEqual({ authorizations: 2 })
    const me = (t: { accessToken: string }) =>
      fetch(`${emu.restBase}/v10/users/@me`, {
        headers: { authorization: `Bearer ${t.accessToken}` },
      })
    expect((await me(first)).status).toBe(401)
    expect((await me(second)).status).toBe(401)
    expect((await me(other)).status).toBe(200)
    const refused = await token(
      { grant_type: 'refresh_token', refresh_token: second.refreshToken },
      basic(),
    )
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_grant')
    expect(emu.control.deauthorize({ userId: W.memberB })).toEqual({ authorizations: 0 })
  })

  it('rejects JSON bodies, bad client credentials, other applications and missing scopes', async () => {
    const json = await fetch(`${emu.restBase}/v10/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...basic() },
      body: JSON.stringify({ grant_type: 'authorization_code', code: 'x' }),
    })
    expect(json.status).toBe(400)
    expect(((await json.json()) as { error: string }).error).toBe('unsupported_grant_type')
    const badSecret = await token({
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: emu.clientId,
      client_secret: 'wrong-secret',
    })
    expect(badSecret.status).toBe(401)
    expect(((await badSecret.json()) as { error: string }).error).toBe('invalid_client')
    // A code issued to the bot's application can't be redeemed by another application.
    const { location } = await authorize()
    const other = DEFAULT_WORLD.extraApplications[0]!
    const cross = await token({
      grant_type: 'authorization_code',
      code: location.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      client_id: other.id,
      client_secret: other.clientSecret,
    })
    expect(((await cross.json()) as { error: string }).error).toBe('invalid_grant')
    const t = emu.control.issueAccessToken({ userId: W.memberB, scopes: ['guilds.join'] })
    const noIdentify = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bearer ${t.accessToken}` },
    })
    expect(noIdentify.status).toBe(401)
    expect((await token({ grant_type: 'password' }, basic())).status).toBe(400)
  })

  it('implicit grant: the token comes back in the fragment, without a refresh token', async () => {
    const { res } = await authorize({ response_type: 'token', scope: 'identify' })
    expect(res.status).toBe(302)
    const location = res.headers.get('location')!
    expect(location.startsWith(`${REDIRECT}#`)).toBe(true)
    const fragment = new URLSearchParams(location.split('#')[1])
    expect(fragment.get('token_type')).toBe('Bearer')
    expect(fragment.get('scope')).toBe('identify')
    expect(fragment.get('state')).toBe('st@te/with+chars')
    expect(fragment.has('refresh_token')).toBe(false)
    const me = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bearer ${fragment.get('access_token')}` },
    })
    expect(((await me.json()) as { id: string }).id).toBe(W.memberA)
  })

  it('bot authorization flow: an install link adds the bot with its permissions, no redirect needed', async () => {
    await emu.close()
    emu = await startTestEmulator({
      world: { ...DEFAULT_WORLD, bot: { ...DEFAULT_WORLD.bot, inGuild: false } },
    })
    const link = (params: Record<string, string>) =>
      `${emu.webUrl}/oauth2/authorize?${new URLSearchParams({
        client_id: emu.clientId,
        scope: 'bot',
        permissions: '17825808',
        guild_id: W.guild,
        ...params,
      })}`
    // The picker first; a member without Manage Server may not install it.
    expect((await fetch(link({}))).status).toBe(200)
    expect((await fetch(link({ user_id: W.memberA }))).status).toBe(403)
    expect(emu.control.state().botInGuild).toBe(false)
    const ok = await fetch(link({ user_id: W.owner }))
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('was added to')
    expect(emu.control.state().botInGuild).toBe(true)
    const roles = await fetch(`${emu.restBase}/v10/guilds/${W.guild}/roles`, {
      headers: { authorization: `Bot ${emu.botToken}` },
    })
    const botRole = ((await roles.json()) as { id: string; permissions: string }[]).find(
      (r) => r.id === W.botRole,
    )
    expect(botRole?.permissions).toBe('17825808')
    // With a redirect, the guild and permissions come back as query parameters.
    const back = await fetch(link({ user_id: W.owner, redirect_uri: REDIRECT }), {
      redirect: 'manual',
    })
    const to = new URL(back.headers.get('location')!)
    expect(to.searchParams.get('guild_id')).toBe(W.guild)
    expect(to.searchParams.get('permissions')).toBe('17825808')
    expect((await fetch(link({ guild_id: '123456789012345678' }))).status).toBe(400)
  })
})
