// Revocable sessions in Chromium against the production build and the emulator: a session signed
// out in one browser ends at once in another that carries the same session (its room page's socket
// closes with 4001 and the page goes to sign in), "End all sessions" (sign out everywhere) ends every session of the
// user, a plain "Sign out" leaves the user's other sessions alone, and a cookie copied before a
// sign-out is refused by a page, a server function and the WebSocket.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import WebSocket from 'ws'
import { BASE_URL, EMULATOR_URL, emulator, launchBrowser } from './browser.mjs'
import { callServerFn, serverFnIds } from './server-fn-calls.mjs'

const TIMEOUT = 10_000
let browser
let ids
let user
let roomUrl
const contexts = []

const onSignIn = (url) => url.href.startsWith(`${EMULATOR_URL}/oauth2/authorize`)
const live = (page) => page.getByTestId('live-indicator').getByText('Live')

/** A fresh browser context signed in as `user` through "Sign in with Discord" on the home page. */
async function signedInContext() {
  const context = await browser.newContext()
  contexts.push(context)
  const page = await context.newPage()
  await page.goto(BASE_URL)
  await page.getByRole('button', { name: 'Sign in with Discord' }).click()
  await page.waitForURL(onSignIn)
  await page.getByRole('button', { name: `Authorize as ${user.username}` }).click()
  await page.waitForURL(`${BASE_URL}/`)
  await page.getByRole('heading', { name: /^Signed in as/ }).waitFor({ timeout: TIMEOUT })
  return { context, page }
}

/**
 * A new page of `context` on the room, with its socket live. The socket goes through Playwright,
 * so `closes` resolves with the close code the server sent (then passed on to the page).
 */
async function roomPage(context) {
  const page = await context.newPage()
  let closed
  const closes = new Promise((resolve) => {
    closed = resolve
  })
  await page.routeWebSocket(/\/api\/ws/, (ws) => {
    const server = ws.connectToServer()
    server.onClose((code, reason) => {
      closed(code)
      ws.close({ code, reason })
    })
  })
  await page.goto(roomUrl)
  await live(page).waitFor({ timeout: TIMEOUT })
  return { page, closes }
}

/** The session cookie of a context, as a Cookie header. */
async function cookieOf(context) {
  const cookie = (await context.cookies(BASE_URL)).find((c) => c.name === 'tv_session')
  assert.ok(cookie, 'the context has a session cookie')
  assert.match(cookie.value, /^s1\.[\w-]{43}\.[\w-]{43}$/, 'the cookie only names a session')
  return { header: `tv_session=${cookie.value}`, cookie }
}

/** What the WebSocket upgrade answers for a Cookie header: 101 (open) or the refusal's status. */
function upgradeStatus(cookieHeader) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${BASE_URL.replace(/^http/, 'ws')}/api/ws`, {
      headers: { cookie: cookieHeader, origin: BASE_URL },
    })
    ws.once('open', () => {
      ws.close()
      resolve(101)
    })
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode)
      ws.terminate()
    })
    ws.once('error', reject)
  })
}

const within = (promise, what, ms = TIMEOUT) =>
  Promise.race([
    promise,
    new Promise((_, fail) => setTimeout(() => fail(new Error(`timed out: ${what}`)), ms)),
  ])

describe('revocable sessions', { concurrency: false, timeout: 180_000 }, () => {
  before(async () => {
    browser = await launchBrowser()
    ids = await serverFnIds()
    const username = `sess${Date.now().toString(36)}`
    const { id } = await emulator('/users', { username })
    user = { id, username }
    // The user's room, created from a first browser.
    const { page } = await signedInContext()
    await page.getByLabel('Room name').fill('Session test')
    await page.getByRole('button', { name: 'Create room' }).click()
    await page.waitForURL(/\/rooms\/[A-Za-z0-9_-]+\/?$/)
    roomUrl = page.url()
  })
  after(async () => {
    for (const context of contexts) await context.close()
    await browser?.close()
  })

  test('signing out ends the session in another browser holding it: its socket closes and it lands on sign-in, then back', async () => {
    const a = await signedInContext()
    // A second browser with the same session (a copied cookie).
    const b = await browser.newContext()
    contexts.push(b)
    const { cookie, header } = await cookieOf(a.context)
    await b.addCookies([cookie])
    const room = await roomPage(b)
    assert.equal(await upgradeStatus(header), 101, 'the cookie opens a socket before sign-out')

    await a.page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await a.page.getByRole('heading', { name: 'You are signed out' }).waitFor({ timeout: TIMEOUT })

    // The other browser's socket closes (4001) and its page goes to sign in at once...
    assert.equal(await within(room.closes, 'the room socket to close'), 4001)
    await room.page.waitForURL(onSignIn, { timeout: TIMEOUT })
    // ...and comes back to the room once signed in again.
    await room.page.getByRole('button', { name: `Authorize as ${user.username}` }).click()
    await room.page.waitForURL(roomUrl, { timeout: TIMEOUT })
    await live(room.page).waitFor({ timeout: TIMEOUT })

    // The copy taken before the sign-out is worth nothing: a page, a server function, the WebSocket.
    const page = await fetch(roomUrl, { headers: { cookie: header }, redirect: 'manual' })
    assert.ok([302, 307].includes(page.status), `the room page redirects (${page.status})`)
    assert.equal(
      page.headers.get('location'),
      `/auth/login?returnTo=${encodeURIComponent(new URL(roomUrl).pathname)}`,
    )
    const call = await callServerFn(ids.get('listMyRooms'), {}, header)
    assert.equal(call.status, 401)
    assert.deepEqual(await call.json(), {
      code: 'SESSION_EXPIRED',
      message: 'Your session has ended. Please sign in with Discord again.',
    })
    assert.match(call.headers.get('set-cookie') ?? '', /tv_session=; .*Max-Age=0/)
    assert.equal(await upgradeStatus(header), 401)
  })

  test('a plain "Sign out" leaves the user’s other sessions alone', async () => {
    const a = await signedInContext()
    const b = await signedInContext()
    const room = await roomPage(b.context)
    await a.page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await a.page.getByRole('heading', { name: 'You are signed out' }).waitFor({ timeout: TIMEOUT })
    await new Promise((resolve) => setTimeout(resolve, 1000))
    assert.equal(room.page.url(), roomUrl)
    await live(room.page).waitFor({ timeout: TIMEOUT })
    assert.equal(await upgradeStatus((await cookieOf(b.context)).header), 101)
  })

  test('"End all sessions" (sign out everywhere) ends every session of the user: the other browser’s socket closes, its next action lands on sign-in', async () => {
    const a = await signedInContext()
    const b = await signedInContext()
    const room = await roomPage(b.context)
    const bHeader = (await cookieOf(b.context)).header
    const aHeader = (await cookieOf(a.context)).header
    // B's home page, left open: its next action needs a session.
    const home = b.page
    await a.page.getByRole('button', { name: 'End all sessions' }).click()
    await a.page
      .getByRole('heading', { name: 'You are signed out everywhere' })
      .waitFor({ timeout: TIMEOUT })

    assert.equal(await within(room.closes, 'the room socket to close'), 4001)
    await room.page.waitForURL(onSignIn, { timeout: TIMEOUT })
    await home.getByLabel('Room name').fill('after everywhere')
    await home.getByRole('button', { name: 'Create room' }).click()
    await home.waitForURL(onSignIn, { timeout: TIMEOUT })
    for (const header of [aHeader, bHeader]) {
      const call = await callServerFn(ids.get('listMyRooms'), {}, header)
      assert.equal(call.status, 401)
      assert.equal((await call.json()).code, 'SESSION_EXPIRED')
      assert.equal(await upgradeStatus(header), 401)
    }
  })
})
