import { type Emulator, startEmulator } from '@repo/discord-emulator'
import { Routes } from 'discord-api-types/v10'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  AppError,
  createDiscordRest,
  DISCORD_RETRY_BACKOFF,
  type DiscordRest,
  discordCode,
  isRevokedAuthorization,
  OAuthClient,
  toDiscordFailure,
  withDiscordRetry,
} from '../src/index'

let emu: Emulator
let rest: DiscordRest

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true })
})
// A REST instance per test: @discordjs/rest remembers a route's bucket and its reset (a test's
// 30 s 429 on GET /users/{id} holds every later GET /users/{id} of the same instance), and the
// tests run in a shuffled order.
beforeEach(() => {
  rest = createDiscordRest({ api: emu.restBase, token: emu.botToken })
})
afterAll(async () => {
  await emu?.close()
})

/** The emulator's log of `GET <path>` requests made since `from` (an index into the log). */
function requestsTo(path: string, from: number): number[] {
  return emu.control
    .restLog()
    .slice(from)
    .filter((entry) => entry.method === 'GET' && entry.path === path)
    .map((entry) => entry.status)
}

/** A user the tests' faults can target alone (GET /users/{id} is a route of its own). */
function userPath(): { id: string; path: string } {
  const { id } = emu.control.createUser({ username: `u${Math.random().toString(36).slice(2, 8)}` })
  return { id, path: `/users/${id}` }
}

describe('the Discord REST client (against the emulator)', () => {
  it('waits out a short 429 inside @discordjs/rest: the library repeats the request, not us', async () => {
    const { id, path } = userPath()
    const from = emu.control.restLog().length
    emu.control.restFault({ method: 'GET', path, status: 429, retryAfter: 0.2 })
    const calls: number[] = []
    const user = await withDiscordRetry(() => {
      calls.push(1)
      return rest.get(Routes.user(id)) as Promise<{ id: string }>
    })
    expect(user.id).toBe(id)
    expect(calls).toHaveLength(1)
    expect(requestsTo(path, from)).toEqual([429, 200])
  })

  it('fails at once with RATE_LIMITED and the seconds to wait when the wait is longer than accepted', async () => {
    const { id, path } = userPath()
    const from = emu.control.restLog().length
    emu.control.restFault({ method: 'GET', path, status: 429, retryAfter: 30 })
    const error = await withDiscordRetry(() => rest.get(Routes.user(id))).catch((e: unknown) => e)
    const failure = toDiscordFailure(error)
    expect(failure).toBeInstanceOf(AppError)
    expect(failure.code).toBe('RATE_LIMITED')
    expect(failure.status).toBe(429)
    expect(failure.retryAfter).toBeGreaterThanOrEqual(30)
    expect(failure.retryAfter).toBeLessThanOrEqual(31)
    expect(requestsTo(path, from)).toEqual([429])
  })

  it('honours a shorter accepted wait (maxRateLimitWaitMs)', async () => {
    const strict = createDiscordRest({
      api: emu.restBase,
      token: emu.botToken,
      maxRateLimitWaitMs: 100,
    })
    const { id, path } = userPath()
    emu.control.restFault({ method: 'GET', path, status: 429, retryAfter: 0.5 })
    const from = emu.control.restLog().length
    const error = await strict.get(Routes.user(id)).catch((e: unknown) => e)
    const failure = toDiscordFailure(error)
    expect(failure.code).toBe('RATE_LIMITED')
    // Retry-After 0.5 s, the bucket's reset a little later: whole seconds, rounded up
    expect([1, 2]).toContain(failure.retryAfter)
    expect(requestsTo(path, from)).toEqual([429])
  })

  it('retries 5xx answers with the project backoff (full jitter under doubling ceilings), then succeeds', async () => {
    const { id, path } = userPath()
    const from = emu.control.restLog().length
    emu.control.restFault({ method: 'GET', path, status: 502, count: 3 })
    const waits: number[] = []
    const user = await withDiscordRetry(
      () => rest.get(Routes.user(id)) as Promise<{ id: string }>,
      {
        sleep: async (ms) => {
          waits.push(ms)
        },
        random: () => 0.5,
      },
    )
    expect(user.id).toBe(id)
    // half of each ceiling: 200, 400, 800 ms
    expect(waits).toEqual([100, 200, 400])
    expect(DISCORD_RETRY_BACKOFF).toEqual({ baseMs: 200, maxMs: 5000 })
    expect(requestsTo(path, from)).toEqual([502, 502, 502, 200])
  })

  it('gives up after its attempts with DISCORD_UNAVAILABLE, never Discord’s text', async () => {
    const { id, path } = userPath()
    const from = emu.control.restLog().length
    emu.control.restFault({ method: 'GET', path, status: 500, count: 2 })
    const error = await withDiscordRetry(() => rest.get(Routes.user(id)), {
      attempts: 2,
      sleep: async () => undefined,
    }).catch((e: unknown) => e)
    const failure = toDiscordFailure(error)
    expect(failure.code).toBe('DISCORD_UNAVAILABLE')
    expect(failure.status).toBe(502)
    expect(failure.toBody()).toEqual({
      code: 'DISCORD_UNAVAILABLE',
      message: 'Discord did not answer as expected. Try again.',
    })
    expect(requestsTo(path, from)).toEqual([500, 500])
  })

  it('does not repeat a call Discord refused (4xx), and keeps its Discord code for the caller', async () => {
    const from = emu.control.restLog().length
    const error = await withDiscordRetry(() => rest.get(Routes.user('123456789012345678'))).catch(
      (e: unknown) => e,
    )
    expect(discordCode(error)).toBe(10013)
    expect(toDiscordFailure(error).code).toBe('DISCORD_UNAVAILABLE')
    expect(requestsTo('/users/123456789012345678', from)).toEqual([404])
  })

  it('retries a refused connection, then maps it to DISCORD_UNAVAILABLE', async () => {
    const offline = createDiscordRest({ api: 'http://127.0.0.1:9/api', token: emu.botToken })
    let calls = 0
    const error = await withDiscordRetry(
      () => {
        calls++
        return offline.get(Routes.user())
      },
      { attempts: 3, sleep: async () => undefined },
    ).catch((e: unknown) => e)
    expect(calls).toBe(3)
    expect(toDiscordFailure(error).code).toBe('DISCORD_UNAVAILABLE')
  })
})

describe('Discord failures as typed errors', () => {
  it('maps "maximum number of guild channels" (30013) to NO_CAPACITY', async () => {
    const small = await startEmulator({ port: 0, quiet: true, limits: { channelsPerGuild: 5 } })
    try {
      const smallRest = createDiscordRest({ api: small.restBase, token: small.botToken })
      const create = () =>
        smallRest.post(Routes.guildChannels(small.guildId), { body: { name: 'x', type: 2 } })
      let error: unknown
      for (let i = 0; i < 10 && error === undefined; i++) {
        await create().catch((e: unknown) => {
          error = e
        })
      }
      expect(discordCode(error)).toBe(30013)
      expect(toDiscordFailure(error)).toMatchObject({ code: 'NO_CAPACITY', status: 503 })
    } finally {
      await small.close()
    }
  })

  it('a revoked user authorization is DISCORD_AUTH_REVOKED: the refresh (invalid_grant) and adding a member (50025)', async () => {
    const oauth = new OAuthClient({
      rest,
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      webUrl: emu.webUrl,
      redirectUri: 'http://127.0.0.1:3990/auth/callback',
      now: Date.now,
    })
    const { id } = emu.control.createUser({
      username: `r${Math.random().toString(36).slice(2, 8)}`,
    })
    const tokens = emu.control.issueAccessToken({ userId: id, scopes: ['identify', 'guilds.join'] })
    // Before: both tokens work.
    const renewed = await oauth.refresh(tokens.refreshToken)
    await oauth.revoke(renewed.refreshToken)
    const refresh = await oauth.refresh(renewed.refreshToken).catch((e: unknown) => e)
    expect(discordCode(refresh)).toBe('invalid_grant')
    expect(isRevokedAuthorization(refresh)).toBe(true)
    expect(toDiscordFailure(refresh)).toMatchObject({ code: 'DISCORD_AUTH_REVOKED', status: 401 })
    const add = await rest
      .put(Routes.guildMember(emu.guildId, id), { body: { access_token: renewed.accessToken } })
      .catch((e: unknown) => e)
    expect(discordCode(add)).toBe(50025)
    expect(toDiscordFailure(add).code).toBe('DISCORD_AUTH_REVOKED')
  })

  it('our own misconfiguration (invalid_client) and transient failures are not a revoked authorization', async () => {
    const wrongSecret = new OAuthClient({
      rest,
      clientId: emu.clientId,
      clientSecret: 'not-the-client-secret',
      webUrl: emu.webUrl,
      redirectUri: 'http://127.0.0.1:3990/auth/callback',
      now: Date.now,
    })
    const { id } = emu.control.createUser({
      username: `c${Math.random().toString(36).slice(2, 8)}`,
    })
    const tokens = emu.control.issueAccessToken({ userId: id, scopes: ['identify'] })
    const error = await wrongSecret.refresh(tokens.refreshToken).catch((e: unknown) => e)
    expect(discordCode(error)).toBe('invalid_client')
    expect(isRevokedAuthorization(error)).toBe(false)
    expect(toDiscordFailure(error).code).toBe('DISCORD_UNAVAILABLE')
    expect(isRevokedAuthorization(new Error('ECONNRESET'))).toBe(false)
  })

  it('passes an AppError through unchanged', () => {
    const original = new AppError('ROOM_FULL')
    expect(toDiscordFailure(original)).toBe(original)
  })
})
