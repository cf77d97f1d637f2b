import { describe, expect, it } from 'vitest'
import { loginUrl, safeReturnTo } from '../../src/lib/return-to'

describe('safeReturnTo', () => {
  it('keeps same-origin paths with query and hash', () => {
    expect(safeReturnTo('/rooms/abcdefghij/join?t=x.y.z#top')).toBe(
      '/rooms/abcdefghij/join?t=x.y.z#top',
    )
  })
  it.each([
    'https://evil.example/',
    '//evil.example/x',
    '/\\evil.example',
    'javascript:alert(1)',
    'rooms/x',
    '',
    '/a\nb',
    '/\t/evil.example',
  ])('rejects %j', (value) => {
    expect(safeReturnTo(value)).toBe('/')
  })
  it('rejects non-strings and uses the fallback', () => {
    expect(safeReturnTo(undefined, '/home')).toBe('/home')
    expect(safeReturnTo(42)).toBe('/')
  })
  it('builds a login URL carrying the return path', () => {
    expect(loginUrl('/rooms/x?t=1')).toBe('/auth/login?returnTo=%2Frooms%2Fx%3Ft%3D1')
    expect(loginUrl('https://evil.example')).toBe('/auth/login?returnTo=%2F')
  })
})
