import { sealData } from 'iron-session'
import { describe, expect, it } from 'vitest'
import { SessionKeys } from '../../src/features/auth/session-keys.server'

const SECRET = 'k'.repeat(48)
const keys = new SessionKeys(SECRET)
/** `text` with one character in the middle changed. */
const flip = (text: string, at = 10) =>
  `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`

describe('session keys', () => {
  it('mints an unguessable cookie value that names its session id (a hash, not the token)', () => {
    const a = keys.mint()
    const b = keys.mint()
    expect(a.cookieValue).toMatch(/^s1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
    expect(a.cookieValue).not.toBe(b.cookieValue)
    expect(keys.idOf(a.cookieValue)).toBe(a.id)
    expect(keys.idOf(b.cookieValue)).toBe(b.id)
    expect(a.cookieValue).not.toContain(a.id)
    // Another instance with the same secret (another node, a restart) reads it the same.
    expect(new SessionKeys(SECRET).idOf(a.cookieValue)).toBe(a.id)
  })

  it('refuses a tampered value, another secret, garbage and the earlier iron-session format', async () => {
    const { cookieValue } = keys.mint()
    const [format, token, mac] = cookieValue.split('.') as [string, string, string]
    expect(keys.idOf(`${format}.${flip(token)}.${mac}`)).toBeNull()
    expect(keys.idOf(`${format}.${token}.${flip(mac)}`)).toBeNull()
    expect(keys.idOf(`s2.${token}.${mac}`)).toBeNull()
    expect(new SessionKeys('z'.repeat(48)).idOf(cookieValue)).toBeNull()
    for (const junk of ['', 'x', `${cookieValue}x`, cookieValue.replaceAll('.', '*')]) {
      expect(keys.idOf(junk)).toBeNull()
    }
    expect(keys.idOf(null)).toBeNull()
    const oldFormat = await sealData(
      {
        v: 1,
        user: { userId: '123456789012345678', username: 'x', globalName: null, avatar: null },
        accessToken: 'a',
        refreshToken: 'r',
        expiresAt: Date.now() + 1e6,
      },
      { password: SECRET, ttl: 3600 },
    )
    expect(keys.idOf(oldFormat)).toBeNull()
  })

  it('encrypts the Discord tokens for one session only', () => {
    const { id } = keys.mint()
    const other = keys.mint().id
    const sealed = keys.seal('{"accessToken":"secret-access"}', id)
    expect(sealed).not.toContain('secret-access')
    expect(keys.open(sealed, id)).toBe('{"accessToken":"secret-access"}')
    expect(keys.seal('same', id)).not.toBe(keys.seal('same', id))
    expect(keys.open(sealed, other)).toBeNull()
    expect(new SessionKeys('z'.repeat(48)).open(sealed, id)).toBeNull()
    const [v, iv, data, tag] = sealed.split('.') as [string, string, string, string]
    expect(keys.open([v, iv, flip(data, 5), tag].join('.'), id)).toBeNull()
    expect(keys.open([v, iv, data, flip(tag, 5)].join('.'), id)).toBeNull()
    expect(keys.open('v0.x.y.z', id)).toBeNull()
    expect(keys.open('', id)).toBeNull()
  })
})
