import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { GatewaySession } from '../src/gateway/session.ts'
import { OAuthStore, pkceChallenge } from '../src/oauth/oauth-store.ts'
import { RestError, zodFormError } from '../src/rest/errors.ts'
import { FaultStore } from '../src/rest/faults.ts'
import { RateLimiter, tooManyRequests } from '../src/rest/rate-limiter.ts'

describe('gateway session buffer', () => {
  it('returns missed dispatches after seq, or null when gone or bogus', () => {
    const s = new GatewaySession('id', 1, [0, 1], 3)
    for (let i = 0; i < 5; i++) s.dispatch('VOICE_STATE_UPDATE' as never, i)
    expect(s.missedSince(5)).toEqual([])
    expect(s.missedSince(3)?.map((e) => e.s)).toEqual([4, 5])
    expect(s.missedSince(2)?.map((e) => e.s)).toEqual([3, 4, 5])
    expect(s.missedSince(1)).toBeNull() // 2 fell out of the buffer
    expect(s.missedSince(6)).toBeNull()
  })
})

describe('REST rate limiter', () => {
  it('counts per route bucket and major parameter', () => {
    const rl = new RateLimiter({ route: { limit: 2, windowMs: 1000 }, globalPerSecond: 50 })
    expect(rl.take('GET /a', 'g1', 'bot').remaining).toBe(1)
    expect(rl.take('GET /a', 'g1', 'bot').remaining).toBe(0)
    expect(rl.take('GET /a', 'g1', 'bot').exceeded).toBe(true)
    expect(rl.take('GET /a', 'g2', 'bot').exceeded).toBe(false)
    expect(rl.take('GET /b', 'g1', 'bot').exceeded).toBe(false)
  })
  it('global limit and invalid-request count', () => {
    const rl = new RateLimiter({ route: { limit: 2, windowMs: 1000 }, globalPerSecond: 2 })
    expect(rl.takeGlobal('bot')).toBe(0)
    expect(rl.takeGlobal('bot')).toBe(0)
    expect(rl.takeGlobal('bot')).toBeGreaterThan(0)
    rl.recordInvalid()
    expect(rl.invalidCount()).toBe(1)
    rl.reset()
    expect(rl.invalidCount()).toBe(0)
  })
  it('429 headers always carry Retry-After and the scope', () => {
    const { headers, body } = tooManyRequests(0.2, 'global', null)
    expect(headers).toMatchObject({
      'retry-after': '1',
      'x-ratelimit-scope': 'global',
      'x-ratelimit-global': 'true',
    })
    expect(body).toEqual({ message: 'You are being rate limited.', retry_after: 0.2, global: true })
  })
})

describe('50035 error trees', () => {
  it('nests errors by path with Discord codes', () => {
    const schema = z.object({
      name: z.string().min(1),
      list: z.array(z.object({ n: z.number().max(3) })),
    })
    const body = { list: [{ n: 1 }, { n: 9 }] }
    const err = zodFormError(schema.safeParse(body).error!.issues, body)
    expect(err).toBeInstanceOf(RestError)
    expect(err.status).toBe(400)
    expect(err.body).toEqual({
      code: 50035,
      message: 'Invalid Form Body',
      errors: {
        name: { _errors: [{ code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }] },
        list: {
          '1': {
            n: {
              _errors: [
                {
                  code: 'NUMBER_TYPE_MAX',
                  message: 'int value should be less than or equal to 3.',
                },
              ],
            },
          },
        },
      },
    })
  })
})

describe('fault store', () => {
  it('matches by pattern or prefix, method, and count', () => {
    const f = new FaultStore()
    f.add({ path: '/api/v10/guilds/1', status: 500, count: 2 })
    f.add({ method: 'POST', path: '/channels/:channelId/invites', status: 429 })
    expect(f.take('GET', '/guilds/1/channels', '/guilds/:guildId/channels')?.status).toBe(500)
    expect(f.take('GET', '/guilds/12', null)).toBeNull()
    expect(f.take('GET', '/channels/5/invites', '/channels/:channelId/invites')).toBeNull()
    expect(f.take('POST', '/channels/5/invites', '/channels/:channelId/invites')?.status).toBe(429)
    expect(f.take('GET', '/guilds/1', null)?.status).toBe(500)
    expect(f.pending()).toBe(0)
  })
})

describe('OAuth store', () => {
  const grant = { userId: 'u', clientId: 'c', scopes: ['identify'] }
  it('codes are single use and bound to client, redirect and PKCE verifier', () => {
    const s = new OAuthStore(60)
    const code = s.createCode(grant, 'http://localhost/cb', pkceChallenge('verifier'))
    expect(s.takeCode(code, 'c', 'http://localhost/cb', 'verifier').grant).toEqual(grant)
    expect(s.takeCode(code, 'c', 'http://localhost/cb', 'verifier').error).toBeDefined()
    const c2 = s.createCode(grant, 'http://localhost/cb', null)
    expect(s.takeCode(c2, 'other', 'http://localhost/cb', undefined).error).toBeDefined()
  })
  it('refresh rotates, revoke ends the authorization, tokens expire', () => {
    let s = new OAuthStore(60)
    const t = s.issue(grant)
    expect(s.lookup(t.access_token)?.userId).toBe('u')
    const r = s.refresh(t.refresh_token, 'c')!
    expect(s.lookup(t.access_token)).toBeNull()
    expect(s.refresh(t.refresh_token, 'c')).toBeNull()
    s.revoke(r.refresh_token, 'c')
    expect(s.lookup(r.access_token)).toBeNull()
    s = new OAuthStore(0)
    expect(s.lookup(s.issue(grant).access_token)).toBeNull()
  })
  it('accepts any loopback redirect when none are registered', () => {
    const s = new OAuthStore(60)
    const app = { id: 'c', secret: 's', name: 'n', redirectUris: [] }
    expect(s.isRedirectAllowed(app, 'http://127.0.0.1:3000/cb')).toBe(true)
    expect(s.isRedirectAllowed(app, 'https://example.com/cb')).toBe(false)
    expect(
      s.isRedirectAllowed(
        { ...app, redirectUris: ['https://example.com/cb'] },
        'https://example.com/cb',
      ),
    ).toBe(true)
  })
})
