import { startEmulator } from '@repo/discord-emulator'
import { createDiscordRest, OAuthClient } from '@repo/discord-integration'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AuthService,
  LOGIN_COOKIE,
  SESSION_COOKIE,
} from '../../src/features/auth/auth-service.server'
import { readCookie } from '../../src/features/auth/cookies'
import { logger, SECRET } from '../rooms/harness'

type Emulator = Awaited<ReturnType<typeof startEmulator>>
const CALLBACK = 'http://127.0.0.1:3999/auth/callback'

let emu: Emulator
let now = Date.now()
const clock = () => now

function makeAuth() {
  const rest = createDiscordRest({ api: emu.restBase, token: emu.botToken })
  const oauth = new OAuthClient({
    rest,
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    webUrl: emu.webUrl,
    redirectUri: CALLBACK,
    now: clock,
  })
  return new AuthService({ oauth, secret: SECRET, secureCookies: false, now: clock, logger })
}

/** Cookie header made of the name=value parts of Set-Cookie values. */
const cookieHeader = (...setCookies: string[]) => setCookies.map((c) => c.split(';')[0]).join('; ')

/** Runs the whole login: our /auth/login, the authorize page (approving as `userId`), our callback. */
async function signIn(auth: AuthService, userId: string, returnTo = '/rooms/abcdefghij?x=1') {
  const begin = await auth.beginLogin(returnTo)
  const authorize = new URL(begin.location)
  expect(authorize.origin).toBe(new URL(emu.webUrl).origin)
  expect(authorize.pathname).toBe('/oauth2/authorize')
  expect(authorize.searchParams.get('scope')).toBe('identify guilds.join')
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
  authorize.searchParams.set('user_id', userId)
  const res = await fetch(authorize, { redirect: 'manual' })
  expect(res.status).toBe(302)
  const callback = new URL(res.headers.get('location') ?? '')
  expect(`${callback.origin}${callback.pathname}`).toBe(CALLBACK)
  return { begin, callback, loginCookie: cookieHeader(begin.setCookie) }
}

beforeAll(async () => {
  emu = await startEmulator({ port: 0, oauthAccessTokenTtlSeconds: 2 })
})
afterAll(async () => {
  await emu?.close()
})

describe('sign-in with Discord (authorization code + PKCE) against the emulator', () => {
  it('signs in, keeps tokens in a sealed HttpOnly cookie and returns to the page', async () => {
    now = Date.now()
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'alice', globalName: 'Alice' })
    const { begin, callback, loginCookie } = await signIn(auth, id)
    expect(begin.setCookie).toMatch(/HttpOnly/)
    expect(begin.setCookie).toMatch(/SameSite=Lax/)
    const done = await auth.completeLogin(callback, loginCookie)
    expect(done.returnTo).toBe('/rooms/abcdefghij?x=1')
    expect(done.session.user).toEqual({
      userId: id,
      username: 'alice',
      globalName: 'Alice',
      avatar: null,
    })
    const sessionSetCookie = done.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? ''
    expect(sessionSetCookie).toMatch(/HttpOnly/)
    expect(sessionSetCookie).not.toContain(done.session.accessToken)
    expect(done.setCookies.some((c) => c.startsWith(`${LOGIN_COOKIE}=;`))).toBe(true)
    const read = await auth.readSession(cookieHeader(sessionSetCookie))
    expect(read?.user.userId).toBe(id)
  })

  it('refuses a callback whose state does not match, or without the login cookie', async () => {
    now = Date.now()
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'mallory' })
    const { callback, loginCookie } = await signIn(auth, id)
    const forged = new URL(callback)
    forged.searchParams.set('state', 'not-the-state')
    await expect(auth.completeLogin(forged, loginCookie)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    })
    await expect(auth.completeLogin(callback, null)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    })
  })

  it('rejects a foreign return URL (open redirect) in favour of /', async () => {
    now = Date.now()
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'bob' })
    const { callback, loginCookie } = await signIn(auth, id, 'https://evil.example/steal')
    expect((await auth.completeLogin(callback, loginCookie)).returnTo).toBe('/')
  })

  it('ignores tampered or foreign session cookies', async () => {
    const auth = makeAuth()
    expect(await auth.readSession(`${SESSION_COOKIE}=Fe26.2**garbage`)).toBeNull()
    expect(await auth.readSession(null)).toBeNull()
    const sealedElsewhere = await new AuthService({
      oauth: {} as OAuthClient,
      secret: 'z'.repeat(48),
      secureCookies: false,
      now: clock,
      logger,
    }).sessionCookie({
      v: 1,
      user: { userId: '123456789012345678', username: 'x', globalName: null, avatar: null },
      accessToken: 'a',
      refreshToken: 'r',
      expiresAt: now + 1e6,
    })
    expect(await auth.readSession(cookieHeader(sealedElsewhere))).toBeNull()
  })

  it('refreshes a token that is about to expire (the emulator issues 2 s tokens), silently', async () => {
    now = Date.now()
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'carol' })
    const { callback, loginCookie } = await signIn(auth, id)
    const { session } = await auth.completeLogin(callback, loginCookie)
    expect(session.expiresAt - now).toBeLessThanOrEqual(2000)
    const fresh = await auth.ensureFresh(session)
    expect(fresh.setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`))
    expect(fresh.session.accessToken).not.toBe(session.accessToken)
    // The new token works against Discord.
    const rest = createDiscordRest({ api: emu.restBase, token: emu.botToken })
    const me = await new OAuthClient({
      rest,
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      webUrl: emu.webUrl,
      redirectUri: CALLBACK,
      now: clock,
    }).fetchUser(fresh.session.accessToken)
    expect(me.userId).toBe(id)
    // A token with time left is left alone.
    const longLived = { ...fresh.session, expiresAt: now + 60 * 60 * 1000 }
    expect((await auth.ensureFresh(longLived)).setCookie).toBeNull()
  })

  it('two requests refreshing the same session at once share one refresh (refresh tokens are single-use)', async () => {
    now = Date.now()
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'erin' })
    const { callback, loginCookie } = await signIn(auth, id)
    const { session } = await auth.completeLogin(callback, loginCookie)
    const [a, b] = await Promise.all([auth.ensureFresh(session), auth.ensureFresh(session)])
    expect(a.session.accessToken).toBe(b.session.accessToken)
    expect(a.session.accessToken).not.toBe(session.accessToken)
    // A request that still carries the old cookie a moment later gets the same tokens too.
    const late = await auth.ensureFresh(session)
    expect(late.session.refreshToken).toBe(a.session.refreshToken)
  })

  it('sign-out revokes the authorization: a later refresh fails with UNAUTHENTICATED', async () => {
    now = Date.now()
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'dave' })
    const { callback, loginCookie } = await signIn(auth, id)
    const done = await auth.completeLogin(callback, loginCookie)
    const sessionCookie = cookieHeader(
      done.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '',
    )
    const clear = await auth.logout(sessionCookie)
    expect(readCookie(cookieHeader(clear), SESSION_COOKIE)).toBe('')
    expect(clear).toMatch(/Max-Age=0/)
    await expect(auth.ensureFresh(done.session)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      status: 401,
    })
  })
})
