import type { OAuthClient } from '@repo/discord-integration'
import { sealData } from 'iron-session'
import { describe, expect, it } from 'vitest'
import {
  AuthService,
  type AuthServiceOptions,
  SESSION_COOKIE,
  type SessionData,
} from '../../src/features/auth/auth-service.server'
import { logger, SECRET } from '../rooms/harness'

let now = Date.now()

function makeAuth(sessionCache?: AuthServiceOptions['sessionCache']) {
  return new AuthService({
    oauth: {} as OAuthClient,
    secret: SECRET,
    secureCookies: false,
    now: () => now,
    logger,
    ...(sessionCache ? { sessionCache } : {}),
  })
}

const session = (userId: string): SessionData => ({
  v: 1,
  user: { userId, username: `u${userId.slice(-2)}`, globalName: null, avatar: null },
  accessToken: `a-${userId}`,
  refreshToken: `r-${userId}`,
  expiresAt: now + 3_600_000,
})

async function cookieFor(auth: AuthService, userId: string): Promise<string> {
  return (await auth.sessionCookie(session(userId))).split(';')[0] ?? ''
}

describe('unsealed session cache', () => {
  it('answers a cookie seen recently without unsealing it again, with a copy', async () => {
    now = Date.now()
    const auth = makeAuth()
    const cookie = await cookieFor(auth, '123456789012345601')
    const first = await auth.readSession(cookie)
    const second = await auth.readSession(cookie)
    expect(second).toEqual(first)
    expect(second?.user.userId).toBe('123456789012345601')
    expect(auth.sessionCacheStats()).toEqual({ hits: 1, misses: 1, size: 1 })
    if (second) second.user.username = 'changed'
    expect((await auth.readSession(cookie))?.user.username).toBe('u01')
  })

  it('forgets an entry after its ttl', async () => {
    now = Date.now()
    const auth = makeAuth({ ttlMs: 1000 })
    const cookie = await cookieFor(auth, '123456789012345602')
    await auth.readSession(cookie)
    now += 999
    await auth.readSession(cookie)
    expect(auth.sessionCacheStats()).toMatchObject({ hits: 1, misses: 1 })
    now += 2
    expect(await auth.readSession(cookie)).not.toBeNull()
    expect(auth.sessionCacheStats()).toMatchObject({ hits: 1, misses: 2 })
  })

  it('by default keeps an entry 15 minutes: sockets back from a blip are not unsealed again', async () => {
    now = Date.now()
    const auth = makeAuth()
    const cookie = await cookieFor(auth, '123456789012345604')
    await auth.readSession(cookie)
    now += 10 * 60_000
    await auth.readSession(cookie)
    expect(auth.sessionCacheStats()).toMatchObject({ hits: 1, misses: 1 })
    now += 5 * 60_000 + 1
    expect(await auth.readSession(cookie)).not.toBeNull()
    expect(auth.sessionCacheStats()).toMatchObject({ hits: 1, misses: 2 })
  })

  it('never keeps a session past the expiration sealed into the cookie', async () => {
    now = Date.now()
    const auth = makeAuth({ ttlMs: 3_600_000 })
    const sealed = await sealData(session('123456789012345603'), { password: SECRET, ttl: 5 })
    const cookie = `${SESSION_COOKIE}=${encodeURIComponent(sealed)}`
    expect(await auth.readSession(cookie)).not.toBeNull()
    // iron accepts a seal until 60 s (its clock skew) after the expiration; so does the cache
    now += 5_000 + 59_000
    await auth.readSession(cookie)
    expect(auth.sessionCacheStats()).toMatchObject({ hits: 1, misses: 1 })
    now += 2_000
    await auth.readSession(cookie)
    expect(auth.sessionCacheStats()).toMatchObject({ hits: 1, misses: 2 })
  })

  it('is bounded: the least recently used entry goes first', async () => {
    now = Date.now()
    const auth = makeAuth({ maxEntries: 2 })
    const [a, b, c] = await Promise.all(
      ['123456789012345611', '123456789012345612', '123456789012345613'].map((id) =>
        cookieFor(auth, id),
      ),
    )
    await auth.readSession(a ?? null)
    await auth.readSession(b ?? null)
    await auth.readSession(a ?? null) // a is now the most recently used
    await auth.readSession(c ?? null) // evicts b
    expect(auth.sessionCacheStats()).toEqual({ hits: 1, misses: 3, size: 2 })
    await auth.readSession(a ?? null)
    expect(auth.sessionCacheStats().hits).toBe(2)
    await auth.readSession(b ?? null)
    expect(auth.sessionCacheStats().misses).toBe(4)
  })

  it('caches nothing for tampered or foreign cookies, and can be disabled', async () => {
    now = Date.now()
    const auth = makeAuth()
    expect(await auth.readSession(`${SESSION_COOKIE}=Fe26.2**garbage`)).toBeNull()
    expect(await auth.readSession(`${SESSION_COOKIE}=Fe26.2**garbage`)).toBeNull()
    expect(auth.sessionCacheStats().size).toBe(0)
    const off = makeAuth({ maxEntries: 0 })
    const cookie = await cookieFor(off, '123456789012345604')
    await off.readSession(cookie)
    expect(await off.readSession(cookie)).not.toBeNull()
    expect(off.sessionCacheStats()).toEqual({ hits: 0, misses: 2, size: 0 })
  })
})
