import type { Emulator } from '@repo/discord-emulator'
import type { OAuthClient } from '@repo/discord-integration'
import { AuthService } from '../../src/features/auth/auth-service.server'
import { logger } from '../rooms/harness'

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
 * The Cookie header of a signed-in session, sealed the way the app seals it after sign-in
 * (AuthService.sessionCookie). `expiresAt` is when the Discord access token expires.
 */
export async function sessionCookie(
  secret: string,
  player: Player,
  options: { expiresAt?: number; refreshToken?: string } = {},
): Promise<string> {
  const auth = new AuthService({
    oauth: {} as OAuthClient,
    secret,
    secureCookies: false,
    now: Date.now,
    logger,
  })
  const setCookie = await auth.sessionCookie({
    v: 1,
    user: { userId: player.userId, username: player.username, globalName: null, avatar: null },
    accessToken: player.accessToken,
    refreshToken: options.refreshToken ?? player.refreshToken,
    expiresAt: options.expiresAt ?? Date.now() + 3_600_000,
  })
  return setCookie.split(';')[0] ?? ''
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
