import { describe, expect, it } from 'vitest'
import { isLoopback, opsAccessDenied } from '../../src/server/ops-access'

const TOKEN = 't'.repeat(40)
const get = (headers: Record<string, string> = {}) =>
  new Request('http://127.0.0.1:3000/metrics', { headers })

describe('opsAccessDenied', () => {
  it('with METRICS_TOKEN: lets the right bearer token in, from anywhere', () => {
    const auth = { authorization: `Bearer ${TOKEN}` }
    expect(opsAccessDenied(get(auth), '203.0.113.7', TOKEN)).toBeNull()
    expect(opsAccessDenied(get({ authorization: `bearer  ${TOKEN}` }), '::1', TOKEN)).toBeNull()
    expect(
      opsAccessDenied(get({ ...auth, 'x-forwarded-for': '203.0.113.7' }), '127.0.0.1', TOKEN),
    ).toBeNull()
  })

  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: `Bearer ${'u'.repeat(40)}` }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, 39)}` }],
    ['the token plus more', { authorization: `Bearer ${TOKEN}x` }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
    ['the bare token', { authorization: TOKEN }],
  ])('with METRICS_TOKEN: answers 401 to %s, even on loopback', async (_name, headers) => {
    const denied = opsAccessDenied(get(headers), '127.0.0.1', TOKEN)
    expect(denied?.status).toBe(401)
    expect(denied?.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(await denied?.json()).toEqual({ error: 'unauthorized' })
  })

  it('without METRICS_TOKEN: lets direct loopback requests in', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect(opsAccessDenied(get(), address, undefined)).toBeNull()
    }
  })

  it('without METRICS_TOKEN: refuses other addresses, and loopback requests that came through a proxy', () => {
    for (const address of [
      '10.0.0.5',
      '192.168.1.2',
      '::ffff:10.0.0.5',
      'fe80::1',
      '',
      undefined,
    ]) {
      expect(opsAccessDenied(get(), address, undefined)?.status).toBe(403)
    }
    for (const header of ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip']) {
      expect(opsAccessDenied(get({ [header]: 'x' }), '127.0.0.1', undefined)?.status).toBe(403)
    }
    // a token sent while none is configured does not open anything
    expect(
      opsAccessDenied(get({ authorization: `Bearer ${TOKEN}` }), '10.0.0.5', undefined)?.status,
    ).toBe(403)
  })

  it('knows loopback addresses', () => {
    expect(isLoopback('0:0:0:0:0:0:0:1')).toBe(true)
    expect(isLoopback('::2')).toBe(false)
    expect(isLoopback('128.0.0.1')).toBe(false)
    expect(isLoopback('localhost')).toBe(false)
  })
})
