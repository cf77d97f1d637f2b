import type { Emulator } from '@repo/discord-emulator'
import { type AuthService, SESSION_COOKIE } from '../../src/features/auth/auth-service.server'

/** A Discord user of the emulator who has authorized the app (identify + guilds.join). */
export interface Player {
  userId: string
  username: string
  accessToken: string
  refreshToken: string
}

let counter = 0

/** A fresh emulated user with OAuth tokens, as if they had signed in. */
export function newPlayer(emu: Emulator, name = 'glue'): Player {
  counter++
  const username = `${name}${counter}${Math.random().toString(36).slice(2, 6)}`
  const { id } = emu.control.createUser({ username })
  const tokens = emu.control.issueAccessToken({ userId: id, scopes: ['identify', 'guilds.join'] })
  return { userId: id, username, ...tokens }
}

/**
 * The Cookie header of a session started for `player` the way sign-in starts one
 * (AuthService.sessions.create), in the store of `auth` (the server's own AuthService, or one on
 * the same store). `expiresAt` is when the Discord access token expires.
 */
export async function sessionCookie(
  auth: AuthService,
  player: Player,
  options: { expiresAt?: number; refreshToken?: string } = {},
): Promise<string> {
  const { cookieValue } = await auth.sessions.create(
    { userId: player.userId, username: player.username, globalName: null, avatar: null },
    {
      accessToken: player.accessToken,
      refreshToken: options.refreshToken ?? player.refreshToken,
      expiresAt: options.expiresAt ?? Date.now() + 3_600_000,
    },
  )
  return `${SESSION_COOKIE}=${cookieValue}`
}

/**
 * Signs `userId` in to the app at `appUrl` over plain HTTP, as a browser would: /auth/login, the
 * emulator's authorize page (which approves at once for `user_id`), /auth/callback. Returns the
 * session's Cookie header.
 */
export async function signInOverHttp(appUrl: string, userId: string): Promise<string> {
  const pairs = (response: Response) =>
    response.headers
      .getSetCookie()
      .map((line) => line.split(';')[0] ?? '')
      .filter((pair) => !pair.endsWith('='))
  const login = await fetch(`${appUrl}/auth/login?returnTo=%2F`, { redirect: 'manual' })
  if (login.status !== 302) throw new Error(`/auth/login answered ${login.status}`)
  const authorize = new URL(login.headers.get('location') ?? '')
  authorize.searchParams.set('user_id', userId)
  const approved = await fetch(authorize, { redirect: 'manual' })
  if (approved.status !== 302) throw new Error(`authorize answered ${approved.status}`)
  const callback = await fetch(approved.headers.get('location') ?? '', {
    redirect: 'manual',
    headers: { cookie: pairs(login).join('; ') },
  })
  const cookie = pairs(callback).find((pair) => pair.startsWith(`${SESSION_COOKIE}=`))
  if (callback.status !== 302 || !cookie) {
    throw new Error(`/auth/callback answered ${callback.status} without a session cookie`)
  }
  return cookie
}

/** The value a Set-Cookie header gives `name` ('' when it clears it), or undefined. */
export function setCookieValue(response: Response, name: string): string | undefined {
  for (const cookie of response.headers.getSetCookie()) {
    const [pair = ''] = cookie.split(';')
    const eq = pair.indexOf('=')
    if (pair.slice(0, eq) === name) return decodeURIComponent(pair.slice(eq + 1))
  }
  return undefined
}
