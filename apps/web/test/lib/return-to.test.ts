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
  // Each is a path on its face but normalises (dot segments, %2e) to the protocol-relative
  // `//evil.com`, which a browser follows to another site.
  it.each([
    '/..//evil.com',
    '/.//evil.com',
    '/%2e%2e//evil.com',
    '/%2E%2E//evil.com',
    '/%2e//evil.com',
    '/rooms/../..//evil.com',
    '/rooms/..//evil.com',
    '/rooms/%2e%2e/%2e%2e//evil.com/x?y=1',
    '/..//evil.com/rooms?t=1#x',
  ])('rejects %j, which normalises to a protocol-relative URL', (value) => {
    expect(safeReturnTo(value)).toBe('/')
  })
  it('keeps what normalises to a local path', () => {
    expect(safeReturnTo('/rooms/../rooms/abc')).toBe('/rooms/abc')
    expect(safeReturnTo('/rooms/./abc?t=1')).toBe('/rooms/abc?t=1')
    expect(safeReturnTo('/..')).toBe('/')
    expect(safeReturnTo('/%2F%2Fevil.com')).toBe('/%2F%2Fevil.com')
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
