import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '@repo/discord-emulator'
import { createDiscordRest, isAppError, OAuthClient } from '@repo/discord-integration'
import { sealData } from 'iron-session'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  AuthService,
  type AuthServiceOptions,
  LOGIN_COOKIE,
  SESSION_COOKIE,
} from '../../src/features/auth/auth-service.server'
import { FileLoginSessionStore } from '../../src/features/auth/file-login-session-store.server'
import type { LoginSessionStore } from '../../src/features/auth/login-session'
import { logger, SECRET } from '../rooms/harness'

type Emulator = Awaited<ReturnType<typeof startEmulator>>
const CALLBACK = 'http://127.0.0.1:3999/auth/callback'

let emu: Emulator
let dir: string
let store: FileLoginSessionStore
const services: AuthService[] = []

function oauthClient() {
  return new OAuthClient({
    rest: createDiscordRest({ api: emu.restBase, token: emu.botToken }),
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    webUrl: emu.webUrl,
    redirectUri: CALLBACK,
    now: Date.now,
  })
}

/** A sign-in service on the test's store (a second one on the same store is another node). */
function makeAuth(options: Partial<AuthServiceOptions> & { store?: LoginSessionStore } = {}) {
  const auth = new AuthService({
    oauth: oauthClient(),
    secret: SECRET,
    store,
    secureCookies: false,
    now: Date.now,
    logger,
    ...options,
  })
  services.push(auth)
  return auth
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

/** Signs `userId` in all the way; the Cookie header of the new session. */
async function signedIn(auth: AuthService, userId: string): Promise<string> {
  const { callback, loginCookie } = await signIn(auth, userId)
  const done = await auth.completeLogin(callback, loginCookie)
  return cookieHeader(done.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '')
}

/** The session a Cookie header names, which must be live. */
async function active(auth: AuthService, cookie: string) {
  const found = await auth.readSession(cookie)
  if (found.state !== 'active') throw new Error(`the session is ${found.state}`)
  return found.session
}

/** Token requests Discord granted since `from` (a 429 that @discordjs/rest waited out is not one). */
const tokenCalls = (from: number) =>
  emu.control
    .restLog()
    .slice(from)
    .filter((e) => e.method === 'POST' && e.path.endsWith('/oauth2/token') && e.status === 200)
    .length

beforeAll(async () => {
  // Access tokens of 2 s: every use renews them.
  emu = await startEmulator({ port: 0, quiet: true, oauthAccessTokenTtlSeconds: 2 })
})
afterAll(async () => {
  await emu?.close()
})
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tv-auth-'))
  store = new FileLoginSessionStore(join(dir, 'sessions.json'))
})
afterEach(async () => {
  for (const auth of services.splice(0)) await auth.sessions.stop()
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

describe('sign-in with Discord (authorization code + PKCE) against the emulator', () => {
  it('signs in: the cookie only names a server-side session, whose Discord tokens are stored encrypted', async () => {
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'alice', globalName: 'Alice' })
    const { begin, callback, loginCookie } = await signIn(auth, id)
    expect(begin.setCookie).toMatch(/HttpOnly/)
    expect(begin.setCookie).toMatch(/SameSite=Lax/)
    const done = await auth.completeLogin(callback, loginCookie)
    expect(done.returnTo).toBe('/rooms/abcdefghij?x=1')
    expect(done.user).toEqual({ userId: id, username: 'alice', globalName: 'Alice', avatar: null })
    const sessionSetCookie = done.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? ''
    expect(sessionSetCookie).toMatch(
      /^tv_session=s1\.[\w-]{43}\.[\w-]{43}; Path=\/; Max-Age=2592000; SameSite=Lax; HttpOnly$/,
    )
    expect(done.setCookies.some((c) => c.startsWith(`${LOGIN_COOKIE}=;`))).toBe(true)
    const session = await active(auth, cookieHeader(sessionSetCookie))
    expect(session.id).toBe(done.sessionId)
    expect(session.user.userId).toBe(id)
    const tokens = await auth.sessions.freshTokens(session)
    // What is on disk names the user but holds neither the tokens nor the cookie's secret part.
    await store.close()
    const file = await readFile(join(dir, 'sessions.json'), 'utf8')
    expect(file).toContain(id)
    expect(file).not.toContain(tokens.accessToken)
    expect(file).not.toContain(tokens.refreshToken)
    expect(file).not.toContain(sessionSetCookie.split('.')[1] ?? 'missing')
  })

  it('refuses a callback whose state does not match, or without the login cookie', async () => {
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
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'bob' })
    const { callback, loginCookie } = await signIn(auth, id, 'https://evil.example/steal')
    expect((await auth.completeLogin(callback, loginCookie)).returnTo).toBe('/')
  })

  it('reads a cookie of the earlier format (the tokens sealed with iron-session), a tampered or a foreign one as signed out', async () => {
    const auth = makeAuth()
    const oldFormat = await sealData(
      {
        v: 1,
        user: { userId: '123456789012345678', username: 'x', globalName: null, avatar: null },
        accessToken: 'a',
        refreshToken: 'r',
        expiresAt: Date.now() + 1e6,
      },
      { password: SECRET, ttl: 30 * 24 * 3600 },
    )
    expect(await auth.readSession(`${SESSION_COOKIE}=${encodeURIComponent(oldFormat)}`)).toEqual({
      state: 'invalid',
    })
    expect(await auth.readSession(`${SESSION_COOKIE}=Fe26.2**garbage`)).toEqual({
      state: 'invalid',
    })
    expect(await auth.readSession(null)).toEqual({ state: 'none' })
    const { id } = emu.control.createUser({ username: 'frank' })
    const elsewhere = await signedIn(makeAuth({ secret: 'z'.repeat(48) }), id)
    expect(await auth.readSession(elsewhere)).toEqual({ state: 'invalid' })
  })

  it('signing in again in the same browser replaces its earlier session', async () => {
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'gina' })
    const first = await signedIn(auth, id)
    const { callback, loginCookie } = await signIn(auth, id)
    const again = await auth.completeLogin(callback, `${loginCookie}; ${first}`)
    expect((await auth.readSession(first)).state).toBe('ended')
    const second = cookieHeader(again.setCookies.at(-1) ?? '')
    expect((await auth.readSession(second)).state).toBe('active')
  })
})

describe('Discord tokens of a session', () => {
  it('are renewed silently when about to expire (2 s tokens), and the renewed ones are stored', async () => {
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'carol' })
    const cookie = await signedIn(auth, id)
    const session = await active(auth, cookie)
    const log = emu.control.restLog().length
    const fresh = await auth.sessions.freshTokens(session)
    expect(tokenCalls(log)).toBe(1)
    expect(await oauthClient().fetchUser(fresh.accessToken)).toMatchObject({ userId: id })
    // Another node on the same store reads the new tokens (they are still 2 s tokens: renewed again).
    const other = makeAuth()
    const renewedAgain = await other.sessions.freshTokens(await active(other, cookie))
    expect(renewedAgain.accessToken).not.toBe(fresh.accessToken)
  })

  it('two requests renewing the same session at once share one renewal (refresh tokens are single-use)', async () => {
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'erin' })
    const session = await active(auth, await signedIn(auth, id))
    const log = emu.control.restLog().length
    const [a, b] = await Promise.all([
      auth.sessions.freshTokens(session),
      auth.sessions.freshTokens(session),
    ])
    expect(a.accessToken).toBe(b.accessToken)
    expect(tokenCalls(log)).toBe(1)
  })

  it('two nodes renewing at once: the one Discord refuses (invalid_grant) takes the other’s tokens, nobody is signed out', async () => {
    const here = makeAuth()
    const there = makeAuth()
    const { id } = emu.control.createUser({ username: 'hugo' })
    const cookie = await signedIn(here, id)
    const [a, b] = await Promise.all([
      here.sessions.freshTokens(await active(here, cookie)),
      there.sessions.freshTokens(await active(there, cookie)),
    ])
    expect(a.accessToken).toBe(b.accessToken)
    expect((await here.readSession(cookie)).state).toBe('active')
  })

  it('a Discord authorization the user revoked ends the session with DISCORD_AUTH_REVOKED, not DISCORD_UNAVAILABLE', async () => {
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'ivan' })
    const cookie = await signedIn(auth, id)
    const session = await active(auth, cookie)
    const holder = { ids: [session.id], ended: [] as string[] }
    auth.sessions.attach({
      sessionIds: () => holder.ids,
      endSessions: (ids) => holder.ended.push(...ids),
    })
    emu.control.deauthorize({ userId: id })
    const error = await auth.sessions.freshTokens(session).catch((e: unknown) => e)
    expect(isAppError(error, 'DISCORD_AUTH_REVOKED')).toBe(true)
    expect(error).toMatchObject({ status: 401 })
    expect((error as { toBody(): unknown }).toBody()).toEqual({
      code: 'DISCORD_AUTH_REVOKED',
      message:
        'Discord no longer accepts your sign-in (it was revoked or could not be renewed). Please sign in with Discord again.',
    })
    expect(await auth.readSession(cookie)).toEqual({ state: 'ended', id: session.id })
    expect(holder.ended).toEqual([session.id])
  })

  it('Discord failing to answer a renewal keeps the session (DISCORD_UNAVAILABLE), and the next try renews', async () => {
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'judy' })
    const cookie = await signedIn(auth, id)
    emu.control.restFault({ method: 'POST', path: '/oauth2/token', status: 502 })
    const error = await auth.sessions
      .freshTokens(await active(auth, cookie))
      .catch((e: unknown) => e)
    expect(isAppError(error, 'DISCORD_UNAVAILABLE')).toBe(true)
    const session = await active(auth, cookie)
    expect(await auth.sessions.freshTokens(session)).toMatchObject({
      accessToken: expect.any(String),
    })
  })
})

describe('signing out', () => {
  it('ends the session at once: a copied cookie is refused, and the Discord authorization is revoked', async () => {
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'dave' })
    const cookie = await signedIn(auth, id)
    const session = await active(auth, cookie)
    const { refreshToken } = await auth.sessions.freshTokens(session)
    const copied = cookie
    const clear = await auth.logout(cookie)
    expect(clear).toBe('tv_session=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly')
    expect(await auth.readSession(copied)).toEqual({ state: 'ended', id: session.id })
    // Also on another node, which had not seen it yet.
    expect((await makeAuth().readSession(copied)).state).toBe('ended')
    const refresh = await oauthClient()
      .refresh(refreshToken)
      .catch((e: unknown) => e)
    expect(refresh).toBeInstanceOf(Error)
  })

  it('sign out everywhere ends every session of the user, and nobody else’s', async () => {
    const auth = makeAuth()
    const { id } = emu.control.createUser({ username: 'kim' })
    const { id: otherId } = emu.control.createUser({ username: 'lee' })
    const phone = await signedIn(auth, id)
    const laptop = await signedIn(auth, id)
    const someoneElse = await signedIn(auth, otherId)
    const clear = await auth.logoutEverywhere(laptop)
    expect(clear).toMatch(/^tv_session=; .*Max-Age=0/)
    expect((await auth.readSession(phone)).state).toBe('ended')
    expect((await auth.readSession(laptop)).state).toBe('ended')
    expect((await auth.readSession(someoneElse)).state).toBe('active')
  })

  it('a user holds at most maxSessionsPerUser sessions: one more sign-in ends the least recently used', async () => {
    const auth = makeAuth({ maxSessionsPerUser: 2 })
    const { id } = emu.control.createUser({ username: 'max' })
    const first = await signedIn(auth, id)
    const second = await signedIn(auth, id)
    const third = await signedIn(auth, id)
    expect((await auth.readSession(first)).state).toBe('ended')
    expect((await auth.readSession(second)).state).toBe('active')
    expect((await auth.readSession(third)).state).toBe('active')
  })
})
