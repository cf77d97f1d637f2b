import { type Emulator, startEmulator } from '@repo/discord-emulator'
import { createDiscordRest, isAppError, OAuthClient } from '@repo/discord-integration'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuthService } from '../../src/features/auth/auth-service.server'
import { readSessionUser, requireActor } from '../../src/features/auth/session.server'
import { logger } from '../rooms/harness'
import { newPlayer, sessionCookie } from './sessions'

/** The session helpers with the real sign-in service against the Discord emulator. */

const SECRET = 'session-test-secret-'.padEnd(48, 's')
let emu: Emulator
let auth: AuthService

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true })
  auth = new AuthService({
    oauth: new OAuthClient({
      rest: createDiscordRest({ api: emu.restBase, token: emu.botToken }),
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      webUrl: emu.webUrl,
      redirectUri: 'http://127.0.0.1:3995/auth/callback',
      now: Date.now,
    }),
    secret: SECRET,
    secureCookies: false,
    now: Date.now,
    logger,
    // Every read unseals: a cached session would hide what the helpers do.
    sessionCache: { maxEntries: 0 },
  })
})
afterAll(async () => {
  await emu?.close()
})

/** Calls requireActor, collecting the Set-Cookie values it asks for. */
async function actorOf(cookie: string | null) {
  const setCookies: string[] = []
  const result = await requireActor(auth, cookie, (value) => setCookies.push(value)).then(
    (actor) => ({ actor, error: null }),
    (error: unknown) => ({ actor: null, error }),
  )
  return { ...result, setCookies }
}

describe('session helpers', () => {
  it('readSessionUser: the user of a valid cookie, null for none, a tampered or a foreign one', async () => {
    const player = newPlayer(emu)
    const cookie = await sessionCookie(SECRET, player)
    expect(await readSessionUser(auth, `theme=dark; ${cookie}`)).toEqual({
      userId: player.userId,
      username: player.username,
      globalName: null,
      avatar: null,
    })
    expect(await readSessionUser(auth, null)).toBeNull()
    expect(await readSessionUser(auth, `${cookie.slice(0, -6)}AAAAAA`)).toBeNull()
    expect(await readSessionUser(auth, await sessionCookie('x'.repeat(48), player))).toBeNull()
  })

  it('requireActor: UNAUTHENTICATED without a session, and no cookie is touched', async () => {
    const { error, setCookies } = await actorOf(null)
    expect(isAppError(error, 'UNAUTHENTICATED')).toBe(true)
    expect(setCookies).toEqual([])
  })

  it('requireActor: the caller with their Discord token, no new cookie while it is fresh', async () => {
    const player = newPlayer(emu)
    const { actor, setCookies } = await actorOf(await sessionCookie(SECRET, player))
    expect(actor).toEqual({
      userId: player.userId,
      username: player.username,
      globalName: null,
      avatar: null,
      accessToken: player.accessToken,
    })
    expect(setCookies).toEqual([])
  })

  it('requireActor: refreshes a token close to expiry and hands back the new session cookie', async () => {
    const player = newPlayer(emu)
    const { actor, setCookies } = await actorOf(
      await sessionCookie(SECRET, player, { expiresAt: Date.now() + 60_000 }),
    )
    expect(actor?.accessToken).not.toBe(player.accessToken)
    const me = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bearer ${actor?.accessToken}` },
    })
    expect(((await me.json()) as { id: string }).id).toBe(player.userId)
    expect(setCookies).toHaveLength(1)
    const renewed = await auth.readSession(setCookies[0]?.split(';')[0] ?? '')
    expect(renewed?.accessToken).toBe(actor?.accessToken)
  })

  it('requireActor: a refresh Discord refuses ends the session: UNAUTHENTICATED and the cookie cleared', async () => {
    const player = newPlayer(emu)
    // Discord forgets the grant (the user removed the app, say).
    await fetch(`${emu.restBase}/v10/oauth2/token/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: player.refreshToken,
        client_id: emu.clientId,
        client_secret: emu.clientSecret,
      }),
    })
    const { error, setCookies } = await actorOf(
      await sessionCookie(SECRET, player, { expiresAt: Date.now() - 1000 }),
    )
    expect(isAppError(error, 'UNAUTHENTICATED')).toBe(true)
    expect(setCookies).toEqual(['tv_session=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly'])
  })
})
