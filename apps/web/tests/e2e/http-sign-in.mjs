// Sign-in over plain HTTP, without a browser: the app's real OAuth flow against the emulator,
// whose authorize page approves at once for `user_id=<id>` (packages/discord-emulator/README.md).
import assert from 'node:assert/strict'
import { BASE_URL, emulator } from './browser.mjs'

/** `name=value` of every cookie a response sets (cleared ones, with an empty value, left out). */
function cookiesSet(response) {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .filter((pair) => !pair.endsWith('='))
}

/**
 * Signs the emulator user `userId` in through /auth/login?returnTo=..., the emulator's authorize
 * page and /auth/callback. Returns the session's Cookie header value and where the callback
 * redirected to.
 */
export async function signInOverHttp(userId, returnTo = '/') {
  const login = await fetch(`${BASE_URL}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, {
    redirect: 'manual',
  })
  assert.equal(login.status, 302, 'GET /auth/login redirects to Discord')
  const authorize = new URL(login.headers.get('location'))
  authorize.searchParams.set('user_id', userId)
  const approved = await fetch(authorize, { redirect: 'manual' })
  assert.equal(approved.status, 302, 'the emulator approves and redirects back')
  const callback = await fetch(approved.headers.get('location'), {
    redirect: 'manual',
    headers: { cookie: cookiesSet(login).join('; ') },
  })
  assert.equal(callback.status, 302, 'GET /auth/callback redirects')
  const cookie = cookiesSet(callback).join('; ')
  assert.ok(cookie, 'the callback sets a session cookie')
  return { cookie, location: callback.headers.get('location') }
}

/** Creates a new emulator user (not a guild member yet) and returns its id. */
export async function newEmulatorUser(username) {
  const { id } = await emulator('/users', { username })
  return id
}
