// How the production build answers a failed server function: with the code's HTTP status and the
// typed body {code, message, retryAfter?} (specs/017-discord-gateway-real/contracts/
// server-functions.md), which the browser code reads back into the message it shows.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE_URL, emulator, launchBrowser } from './browser.mjs'
import { signInOverHttp } from './http-sign-in.mjs'
import { callServerFn, serverFnIds } from './server-fn-calls.mjs'

let ids
let browser

/**
 * A new emulated user signed in to the app through its real sign-in: `cookie` is the session
 * cookie's value.
 */
async function signedInUser(name) {
  const { id } = await emulator('/users', { username: `${name}${Date.now().toString(36)}` })
  const { cookie } = await signInOverHttp(id)
  return { id, cookie: cookie.slice('tv_session='.length) }
}

function call(name, data, cookie) {
  return callServerFn(ids.get(name), data, cookie ? `tv_session=${cookie}` : undefined)
}

before(async () => {
  assert.ok(process.env.SESSION_SECRET, 'scripts/e2e.sh exports SESSION_SECRET')
  ids = await serverFnIds()
  assert.ok(ids.has('createRoom') && ids.has('getRoom'), 'the server functions are in the build')
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
})

test('a signed-out call answers 401 with the typed error, not HTTP 200', async () => {
  const response = await call('getRoom', { roomId: 'abcdefghijkl' })
  assert.equal(response.status, 401)
  assert.deepEqual(await response.json(), {
    code: 'UNAUTHENTICATED',
    message: 'Please sign in with Discord.',
  })
})

test('a malformed call answers 400 INVALID_INPUT, never the parser text', async () => {
  const response = await fetch(`${BASE_URL}/_serverFn/${ids.get('getRoom')}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tsr-serverfn': 'true', origin: BASE_URL },
    body: '{"data": ',
  })
  assert.equal(response.status, 400)
  assert.equal(
    await response.text(),
    JSON.stringify({ code: 'INVALID_INPUT', message: 'The request was not valid.' }),
  )
})

test('in the browser, a refused action shows its typed error (TOO_MANY_ROOMS, 409)', async () => {
  const host = await signedInUser('busyhost')
  for (const name of ['one', 'two', 'three']) {
    assert.equal((await call('createRoom', { name }, host.cookie)).status, 200)
  }
  const context = await browser.newContext()
  await context.addCookies([
    { name: 'tv_session', value: host.cookie, url: BASE_URL, httpOnly: true },
  ])
  const page = await context.newPage()
  try {
    await page.goto(BASE_URL)
    await page.getByLabel('Room name').fill('four')
    const answer = page.waitForResponse((r) => r.url().includes('/_serverFn/'))
    await page.getByRole('button', { name: 'Create room' }).click()
    const response = await answer
    assert.equal(response.status(), 409)
    assert.equal((await response.json()).code, 'TOO_MANY_ROOMS')
    await page
      .getByRole('alert')
      .getByText('You already host the most open rooms allowed. Close one first.')
      .waitFor({ timeout: 10_000 })
  } finally {
    await context.close()
  }
})
