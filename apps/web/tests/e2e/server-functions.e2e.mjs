// How the production build answers a failed server function: with the code's HTTP status and the
// typed body {code, message, retryAfter?} (specs/017-discord-gateway-real/contracts/
// server-functions.md), which the browser code reads back into the message it shows.
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { sealData } from 'iron-session'
import { toJSONAsync } from 'seroval'
import { BASE_URL, emulator, launchBrowser } from './browser.mjs'

const ssrDir = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '.output',
  'server',
  '_ssr',
)
let ids
let browser

/** Server function name -> id, from the build's server bundle (`createServerRpc({id, name})`). */
async function serverFnIds() {
  const file = (await readdir(ssrDir)).find((name) => name.startsWith('rooms.functions-'))
  assert.ok(file, `no rooms.functions chunk in ${ssrDir}: build first`)
  const source = await readFile(join(ssrDir, file), 'utf8')
  return new Map(
    [...source.matchAll(/id: "([0-9a-f_]+)",\s*name: "(\w+)"/g)].map(([, id, name]) => [name, id]),
  )
}

/** A new emulated user signed in to the app: a session cookie sealed as the app seals it. */
async function signedInUser(name) {
  const { id } = await emulator('/users', { username: `${name}${Date.now().toString(36)}` })
  const tokens = await emulator('/oauth/tokens', {
    userId: id,
    scopes: ['identify', 'guilds.join'],
  })
  const sealed = await sealData(
    {
      v: 1,
      user: { userId: id, username: name, globalName: null, avatar: null },
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: Date.now() + 3_600_000,
    },
    { password: process.env.SESSION_SECRET, ttl: 30 * 24 * 3600 },
  )
  return { id, cookie: sealed }
}

async function call(name, data, cookie) {
  return fetch(`${BASE_URL}/_serverFn/${ids.get(name)}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-tsr-serverfn': 'true',
      origin: BASE_URL,
      ...(cookie ? { cookie: `tv_session=${encodeURIComponent(cookie)}` } : {}),
    },
    body: JSON.stringify(await toJSONAsync({ data })),
  })
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
    { name: 'tv_session', value: encodeURIComponent(host.cookie), url: BASE_URL, httpOnly: true },
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
