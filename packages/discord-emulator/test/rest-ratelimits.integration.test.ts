import { DiscordAPIError } from '@discordjs/rest'
import { Routes } from 'discord-api-types/v10'
import { afterEach, describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import { api, botRest, startTestEmulator, W } from './support/helpers.ts'

describe('REST rate limits and faults', () => {
  let emu: Emulator
  afterEach(async () => {
    await emu.close()
  })

  it('sends X-RateLimit-* headers on every response', async () => {
    emu = await startTestEmulator()
    const res = await api(emu, 'GET', `/guilds/${W.guild}/channels`)
    expect(res.headers.get('x-ratelimit-limit')).toBe('10')
    expect(res.headers.get('x-ratelimit-remaining')).toBe('9')
    expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000)
    expect(Number(res.headers.get('x-ratelimit-reset-after'))).toBeLessThanOrEqual(1)
    expect(res.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/)
    const err = await api(emu, 'GET', `/guilds/${W.guild}/members/${W.nonMember}`)
    expect(err.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/)
  })

  it('answers 429 with Retry-After, scope user and Discord’s body when a bucket is exhausted', async () => {
    emu = await startTestEmulator({ rateLimits: { route: { limit: 2, windowMs: 2000 } } })
    await api(emu, 'GET', `/guilds/${W.guild}/channels`)
    await api(emu, 'GET', `/guilds/${W.guild}/channels`)
    const limited = await api(emu, 'GET', `/guilds/${W.guild}/channels`)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('2')
    expect(limited.headers.get('x-ratelimit-scope')).toBe('user')
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(limited.body).toMatchObject({ message: 'You are being rate limited.', global: false })
    expect(limited.body.retry_after).toBeGreaterThan(0)
    expect(Number(limited.headers.get('x-ratelimit-reset-after'))).toBe(limited.body.retry_after)
    expect(limited.headers.get('retry-after')).toBe(String(Math.ceil(limited.body.retry_after)))
    // Another route has its own bucket.
    expect((await api(emu, 'GET', `/guilds/${W.guild}`)).status).toBe(200)
    expect(emu.control.stats().invalidRequests).toBe(1)
  })

  it('one 429’s headers and body agree, for user, shared and global scopes (docs examples)', async () => {
    emu = await startTestEmulator()
    emu.control.restFault({ method: 'GET', path: '/users/@me', status: 429, retryAfter: 0.5 })
    const before = Date.now()
    const user = await api(emu, 'GET', '/users/@me')
    const after = Date.now()
    expect(user.status).toBe(429)
    expect(user.body).toEqual({
      message: 'You are being rate limited.',
      retry_after: 0.5,
      global: false,
    })
    expect(user.headers.get('x-ratelimit-reset-after')).toBe('0.5')
    expect(user.headers.get('retry-after')).toBe('1')
    expect(user.headers.get('x-ratelimit-limit')).toBe('10')
    expect(user.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(user.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/)
    expect(user.headers.get('x-ratelimit-scope')).toBe('user')
    expect(user.headers.get('x-ratelimit-global')).toBeNull()
    // X-RateLimit-Reset is "now + Reset-After" as epoch seconds.
    const reset = Number(user.headers.get('x-ratelimit-reset')) * 1000
    expect(reset).toBeGreaterThanOrEqual(before + 500)
    expect(reset).toBeLessThanOrEqual(after + 500)

    emu.control.restFault({ path: '/users/@me', status: 429, retryAfter: 2.5, scope: 'shared' })
    const shared = await api(emu, 'GET', '/users/@me')
    expect(shared.body).toEqual({
      message: 'The resource is being rate limited.',
      retry_after: 2.5,
      global: false,
    })
    expect(shared.headers.get('retry-after')).toBe('3')
    expect(shared.headers.get('x-ratelimit-scope')).toBe('shared')
    expect(Number(shared.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0)

    emu.control.restFault({ path: '/users/@me', status: 429, retryAfter: 0.25, global: true })
    const global = await api(emu, 'GET', '/users/@me')
    expect(global.body).toEqual({
      message: 'You are being rate limited.',
      retry_after: 0.25,
      global: true,
    })
    expect(global.headers.get('retry-after')).toBe('1')
    expect(global.headers.get('x-ratelimit-global')).toBe('true')
    expect(global.headers.get('x-ratelimit-scope')).toBe('global')
    expect(global.headers.get('x-ratelimit-bucket')).toBeNull()
    // Shared-scope 429s are not invalid requests (docs topics/rate-limits).
    expect(emu.control.stats().invalidRequests).toBe(2)
  })

  it('a JSON body without its content type is 50035 at the root of `errors`', async () => {
    emu = await startTestEmulator()
    const res = await api(emu, 'POST', `/guilds/${W.guild}/channels`, {
      body: { name: 'x', type: 2 },
      headers: { 'content-type': 'text/plain' },
    })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({
      code: 50035,
      message: 'Invalid Form Body',
      errors: { _errors: [expect.objectContaining({ code: 'CONTENT_TYPE_INVALID' })] },
    })
  })

  it('applies the global per-bot limit with X-RateLimit-Global', async () => {
    emu = await startTestEmulator({
      rateLimits: { globalPerSecond: 3, route: { limit: 100, windowMs: 1000 } },
    })
    for (let i = 0; i < 3; i++) expect((await api(emu, 'GET', '/users/@me')).status).toBe(200)
    const limited = await api(emu, 'GET', '/users/@me')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('x-ratelimit-global')).toBe('true')
    expect(limited.headers.get('x-ratelimit-scope')).toBe('global')
    expect(limited.body.global).toBe(true)
  })

  it('@discordjs/rest waits Retry-After on an injected 429 and then succeeds', async () => {
    emu = await startTestEmulator()
    emu.control.restFault({ method: 'GET', path: '/users/@me', status: 429, retryAfter: 1 })
    const rest = botRest(emu)
    const start = Date.now()
    const me = (await rest.get(Routes.user())) as { id: string }
    expect(me.id).toBe(W.bot)
    expect(Date.now() - start).toBeGreaterThanOrEqual(950)
    expect(emu.control.restLog().map((e) => e.status)).toEqual([429, 200])
  })

  it('@discordjs/rest honours a global 429 fault too', async () => {
    emu = await startTestEmulator()
    emu.control.restFault({
      path: '/guilds/:guildId/channels',
      status: 429,
      retryAfter: 1,
      global: true,
    })
    const rest = botRest(emu)
    const start = Date.now()
    const channels = (await rest.get(Routes.guildChannels(W.guild))) as unknown[]
    expect(channels.length).toBeGreaterThan(0)
    expect(Date.now() - start).toBeGreaterThanOrEqual(950)
  })

  it('injects 5xx (retried by @discordjs/rest), plain errors and delays, matching by prefix', async () => {
    emu = await startTestEmulator()
    const rest = botRest(emu, { retries: 1 })
    emu.control.restFault({ path: `/api/v10/guilds/${W.guild}`, status: 502, count: 1 })
    expect(((await rest.get(Routes.guild(W.guild))) as { id: string }).id).toBe(W.guild)
    emu.control.restFault({ method: 'POST', path: '/guilds', status: 403, count: 2 })
    await expect(
      rest.post(Routes.guildChannels(W.guild), { body: { name: 'x', type: 2 } }),
    ).rejects.toBeInstanceOf(DiscordAPIError)
    const second = await api(emu, 'POST', `/guilds/${W.guild}/channels`, {
      body: { name: 'x', type: 2 },
    })
    expect(second.status).toBe(403)
    expect(
      (await api(emu, 'POST', `/guilds/${W.guild}/channels`, { body: { name: 'x', type: 2 } }))
        .status,
    ).toBe(201)
    emu.control.restFault({ path: '/users/@me', status: 0, delayMs: 300 })
    const t = Date.now()
    expect((await api(emu, 'GET', '/users/@me')).status).toBe(200)
    expect(Date.now() - t).toBeGreaterThanOrEqual(290)
    expect(emu.control.stats().pendingFaults).toBe(0)
  })

  it('counts 401/403/429 responses as invalid requests', async () => {
    emu = await startTestEmulator()
    await api(emu, 'GET', '/users/@me', { token: 'bad' })
    await api(emu, 'GET', '/users/@me', { token: null })
    await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, { body: { nick: 'x' } })
    await api(emu, 'GET', '/users/@me')
    expect(emu.control.stats().invalidRequests).toBe(3)
    expect(emu.control.stats().restRequests).toBe(4)
  })
})
