import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@repo/discord-emulator'
import { createDiscordRest, isAppError, OAuthClient } from '@repo/discord-integration'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuthService } from '../../src/features/auth/auth-service.server'
import { FileLoginSessionStore } from '../../src/features/auth/file-login-session-store.server'
import {
  actAsCaller,
  readSessionUser,
  readSocketUser,
  requireCaller,
} from '../../src/features/auth/session.server'
import { AppError } from '../../src/server/app-error'
import { logger } from '../rooms/harness'
import { newPlayer, sessionCookie } from './sessions'

/** The session helpers with the real sign-in service against the Discord emulator. */

const SECRET = 'session-test-secret-'.padEnd(48, 's')
const CLEARED = 'tv_session=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly'
let emu: Emulator
let dir: string
let auth: AuthService

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true })
  dir = await mkdtemp(join(tmpdir(), 'tv-session-helpers-'))
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
    store: new FileLoginSessionStore(join(dir, 'sessions.json')),
    secureCookies: false,
    now: Date.now,
    logger,
  })
  await auth.start()
})
afterAll(async () => {
  await auth?.stop()
  await emu?.close()
  await rm(dir, { recursive: true, force: true })
})

/** Calls requireCaller, collecting the Set-Cookie values it asks for. */
async function callerOf(cookie: string | null) {
  const setCookies: string[] = []
  const result = await requireCaller(auth, cookie, (value) => setCookies.push(value)).then(
    (caller) => ({ caller, error: null }),
    (error: unknown) => ({ caller: null, error }),
  )
  return { ...result, setCookies }
}

describe('session helpers', () => {
  it('readSessionUser / readSocketUser: the user of a live session, null for none, a tampered or a foreign one', async () => {
    const player = newPlayer(emu)
    const cookie = await sessionCookie(auth, player)
    const user = {
      userId: player.userId,
      username: player.username,
      globalName: null,
      avatar: null,
    }
    expect(await readSessionUser(auth, `theme=dark; ${cookie}`)).toEqual(user)
    const socketUser = await readSocketUser(auth, cookie)
    expect(socketUser).toMatchObject(user)
    expect(socketUser?.sessionId).toMatch(/^[\w-]{43}$/)
    expect(await readSessionUser(auth, null)).toBeNull()
    expect(await readSessionUser(auth, `${cookie.slice(0, -6)}AAAAAA`)).toBeNull()
    expect(await readSocketUser(auth, 'tv_session=Fe26.2**old')).toBeNull()
  })

  it('requireCaller: UNAUTHENTICATED without a session cookie, and no cookie is touched', async () => {
    const { error, setCookies } = await callerOf(null)
    expect(isAppError(error, 'UNAUTHENTICATED')).toBe(true)
    expect(setCookies).toEqual([])
  })

  it('requireCaller: a cookie of the earlier format is signed out (UNAUTHENTICATED) and cleared', async () => {
    const { error, setCookies } = await callerOf('tv_session=Fe26.2*1*abc*def')
    expect(isAppError(error, 'UNAUTHENTICATED')).toBe(true)
    expect(setCookies).toEqual([CLEARED])
  })

  it('requireCaller: the caller with their Discord token and session id, no new cookie', async () => {
    const player = newPlayer(emu)
    const { caller, setCookies } = await callerOf(await sessionCookie(auth, player))
    expect(caller?.actor).toEqual({
      userId: player.userId,
      username: player.username,
      globalName: null,
      avatar: null,
      accessToken: player.accessToken,
    })
    expect(caller?.sessionId).toMatch(/^[\w-]{43}$/)
    expect(setCookies).toEqual([])
  })

  it('requireCaller: renews a token close to expiry, stored for the next request', async () => {
    const player = newPlayer(emu)
    const cookie = await sessionCookie(auth, player, { expiresAt: Date.now() + 60_000 })
    const { caller } = await callerOf(cookie)
    expect(caller?.actor.accessToken).not.toBe(player.accessToken)
    const me = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bearer ${caller?.actor.accessToken}` },
    })
    expect(((await me.json()) as { id: string }).id).toBe(player.userId)
    expect((await callerOf(cookie)).caller?.actor.accessToken).toBe(caller?.actor.accessToken)
  })

  it('requireCaller: a signed-out session is SESSION_EXPIRED, and the cookie is cleared', async () => {
    const cookie = await sessionCookie(auth, newPlayer(emu))
    await auth.logout(cookie)
    const { error, setCookies } = await callerOf(cookie)
    expect(isAppError(error, 'SESSION_EXPIRED')).toBe(true)
    expect(setCookies).toEqual([CLEARED])
  })

  it('requireCaller: a renewal Discord refuses ends the session: DISCORD_AUTH_REVOKED and the cookie cleared', async () => {
    const player = newPlayer(emu)
    const cookie = await sessionCookie(auth, player, { expiresAt: Date.now() - 1000 })
    // Discord forgets the grant (the user removed the app).
    emu.control.deauthorize({ userId: player.userId })
    const { error, setCookies } = await callerOf(cookie)
    expect(isAppError(error, 'DISCORD_AUTH_REVOKED')).toBe(true)
    expect(setCookies).toEqual([CLEARED])
    expect(isAppError((await callerOf(cookie)).error, 'SESSION_EXPIRED')).toBe(true)
  })

  it('actAsCaller: DISCORD_AUTH_REVOKED from the action itself ends the session; other errors do not', async () => {
    const cookie = await sessionCookie(auth, newPlayer(emu))
    const setCookies: string[] = []
    const act = (error: AppError) =>
      actAsCaller(
        auth,
        cookie,
        (v) => setCookies.push(v),
        async () => {
          throw error
        },
      ).catch((e: unknown) => e)
    expect(isAppError(await act(new AppError('DISCORD_UNAVAILABLE')), 'DISCORD_UNAVAILABLE')).toBe(
      true,
    )
    expect((await auth.readSession(cookie)).state).toBe('active')
    expect(setCookies).toEqual([])
    expect(
      isAppError(await act(new AppError('DISCORD_AUTH_REVOKED')), 'DISCORD_AUTH_REVOKED'),
    ).toBe(true)
    expect((await auth.readSession(cookie)).state).toBe('ended')
    expect(setCookies).toEqual([CLEARED])
  })
})
