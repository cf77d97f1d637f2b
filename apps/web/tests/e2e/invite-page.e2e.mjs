// The invite page with links that do not work, against the production build: the page says so
// with the right status (400, not 500); an expired link goes to the "expired" page.
//   BASE_URL=... EMULATOR_URL=... SESSION_SECRET=... node --test tests/e2e/invite-page.e2e.mjs
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { after, before, test } from 'node:test'
import { SignJWT } from 'jose'
import { BASE_URL, emulator, launchBrowser } from './browser.mjs'
import { signInOverHttp } from './http-sign-in.mjs'

const ROOM = 'abcdefghij'

/**
 * An invite link token as the server signs them (src/features/rooms/invite-token.server.ts: HS256,
 * key HMAC-SHA256(SESSION_SECRET, 'room-invite-v1')), for `room`, expiring `expiresIn` s from now.
 */
async function inviteToken(room, expiresIn) {
  const secret = process.env.SESSION_SECRET
  assert.ok(secret, 'SESSION_SECRET of the running server (scripts/e2e.sh exports it)')
  const key = new Uint8Array(createHmac('sha256', secret).update('room-invite-v1').digest())
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ room, ver: 0 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('table-voice')
    .setAudience('room-invite')
    .setIssuedAt(now - 24 * 3600)
    .setExpirationTime(now + expiresIn)
    .sign(key)
}

let cookie
let browser
before(async () => {
  const userId = (await emulator('/state')).users.find((u) => !u.bot).id
  cookie = (await signInOverHttp(userId)).cookie
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
})

async function invitePage(token) {
  const response = await fetch(`${BASE_URL}/rooms/${ROOM}/join?t=${encodeURIComponent(token)}`, {
    headers: { cookie },
    redirect: 'manual',
  })
  const html = await response.text()
  return { status: response.status, location: response.headers.get('location'), html }
}

for (const [name, token, message] of [
  ['a garbage token', 'garbage', 'The request was not valid.'],
  ['a malformed token', 'not-a-jwt-but-long-enough', 'This invite link is not valid.'],
  [
    'a token for another room',
    () => inviteToken('zzzzzzzzzz', 3600),
    'This invite link is not valid.',
  ],
]) {
  test(`an invite link with ${name} answers 400 with the invite error page`, async () => {
    const page = await invitePage(typeof token === 'function' ? await token() : token)
    assert.equal(page.status, 400)
    assert.match(page.html, /This invite link does not work/)
    assert.ok(page.html.includes(message), message)
  })
}

test('an expired invite link goes to the "expired" page', async () => {
  const page = await invitePage(await inviteToken(ROOM, -60))
  assert.equal(page.status, 307)
  assert.equal(new URL(page.location, BASE_URL).pathname, '/invite-expired')
})

test('the invalid-invite page renders in Chromium without errors', async () => {
  const context = await browser.newContext()
  await context.addCookies(
    cookie.split('; ').map((pair) => {
      const [name, ...value] = pair.split('=')
      return { name, value: value.join('='), url: BASE_URL }
    }),
  )
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (error) => errors.push(error.message))
  const response = await page.goto(`${BASE_URL}/rooms/${ROOM}/join?t=not-a-jwt-but-long-enough`)
  assert.equal(response.status(), 400)
  await page.getByRole('heading', { name: 'This invite link does not work' }).waitFor()
  await page.getByRole('link', { name: 'Back to the lobby' }).click()
  await page.waitForURL(`${BASE_URL}/`)
  assert.deepEqual(errors, [])
  await context.close()
})
