// Room codes against a guessing flood, over HTTP and in Chromium against the production build:
// every attempt counts against the caller (10 per 10 minutes) and against their address (30),
// and the refusal is the typed CODE_ATTEMPTS (429) with the seconds to wait. scripts/e2e.sh runs
// the server with TRUSTED_PROXY_HOPS=1, so each test client gets its own address through
// X-Forwarded-For, as a reverse proxy would set it.
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { after, before, test } from 'node:test'
import { fromCrossJSON } from 'seroval'
import { BASE_URL, emulator, launchBrowser } from './browser.mjs'
import { signInOverHttp } from './http-sign-in.mjs'
import { callServerFn, serverFnIds } from './server-fn-calls.mjs'

const ALPHABET = 'ABCDEFGHJKMNPQRSTWXYZ23456789'
let ids
let browser

/** A new emulated user, signed in to the app through the real OAuth flow. */
async function signedInUser(name) {
  const { id } = await emulator('/users', { username: `${name}${Date.now().toString(36)}` })
  return { id, cookie: (await signInOverHttp(id)).cookie }
}

/** A server-function call as the browser makes it, from `address` (X-Forwarded-For) when given. */
async function call(name, data, user, address) {
  return callServerFn(
    ids.get(name),
    data,
    user.cookie,
    address ? { 'x-forwarded-for': address } : {},
  )
}

/** A random well-formed code (guessing one that exists is what the limit is for). */
const guess = () => Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')

before(async () => {
  ids = await serverFnIds()
  assert.ok(ids.has('joinByCode'), 'joinByCode is in the build')
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
})

test('one account guessing codes is stopped after 10 tries, with the seconds to wait', async () => {
  const guesser = await signedInUser('guesser')
  for (let i = 0; i < 10; i++) {
    // A new address each time: the account's own limit is what stops it.
    const response = await call('joinByCode', { code: guess() }, guesser, `203.0.113.${i + 1}`)
    assert.equal(response.status, 404, `attempt ${i + 1}`)
    assert.equal((await response.json()).code, 'CODE_INVALID')
  }
  const refused = await call('joinByCode', { code: guess() }, guesser, '203.0.113.77')
  assert.equal(refused.status, 429)
  const body = await refused.json()
  assert.equal(body.code, 'CODE_ATTEMPTS')
  assert.ok(body.retryAfter > 500 && body.retryAfter <= 600, `retryAfter ${body.retryAfter}`)
  assert.equal(refused.headers.get('retry-after'), String(body.retryAfter))
  // Even the right code is refused now: the attempts are spent, not the wrong ones only.
  const host = await signedInUser('codehost')
  const created = await call('createRoom', { name: 'coded' }, host, '198.51.100.200')
  assert.equal(created.status, 200)
  const room = fromCrossJSON(await created.json(), { refs: new Map() }).result
  assert.match(room.code, /^[A-Z2-9]{6}$/)
  const right = await call('joinByCode', { code: room.code }, guesser, '203.0.113.78')
  assert.equal(right.status, 429)
  // ...while someone else, from elsewhere, gets in with it.
  const friend = await signedInUser('friend')
  assert.equal((await call('joinByCode', { code: room.code }, friend, '203.0.113.79')).status, 200)
})

test('many accounts behind one address are stopped after 30 tries from it', async () => {
  const address = '198.51.100.23'
  let tries = 0
  for (let n = 0; n < 3; n++) {
    const sock = await signedInUser(`sock${n}`)
    for (let i = 0; i < 10; i++) {
      const response = await call('joinByCode', { code: guess() }, sock, address)
      assert.equal(response.status, 404, `try ${++tries}`)
    }
  }
  const fresh = await signedInUser('sockfresh')
  const refused = await call('joinByCode', { code: guess() }, fresh, address)
  assert.equal(refused.status, 429)
  assert.equal((await refused.json()).code, 'CODE_ATTEMPTS')
  // The same account from another address still has its own tries.
  const elsewhere = await call('joinByCode', { code: guess() }, fresh, '198.51.100.24')
  assert.equal(elsewhere.status, 404)
})

test('in the browser, the refusal says so on the home page', async () => {
  const flooder = await signedInUser('flooder')
  const address = '192.0.2.44'
  for (let i = 0; i < 10; i++) await call('joinByCode', { code: guess() }, flooder, address)
  const context = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': address } })
  await context.addCookies(
    flooder.cookie.split('; ').map((pair) => {
      const at = pair.indexOf('=')
      return { name: pair.slice(0, at), value: pair.slice(at + 1), url: BASE_URL, httpOnly: true }
    }),
  )
  const page = await context.newPage()
  try {
    await page.goto(BASE_URL)
    await page.getByLabel('Room code').fill(guess())
    const answer = page.waitForResponse((r) => r.url().includes('/_serverFn/'))
    await page.getByRole('button', { name: 'Join with code' }).click()
    assert.equal((await answer).status(), 429)
    await page
      .getByRole('alert')
      .getByText('Too many room codes tried. Wait a few minutes, then try again.')
      .waitFor({ timeout: 10_000 })
  } finally {
    await context.close()
  }
})
