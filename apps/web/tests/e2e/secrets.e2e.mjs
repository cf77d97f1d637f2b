// Checks that no server secret reaches the browser: not in the built client bundle
// (apps/web/.output/public/**) and not in page responses of a running server.
// Run after `vite build` and with the server started with the same env:
//   DISCORD_BOT_TOKEN=… DISCORD_CLIENT_SECRET=… SESSION_SECRET=… BASE_URL=http://127.0.0.1:3100 \
//     node --test tests/e2e/secrets.e2e.mjs
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const publicDir = join(here, '..', '..', '.output', 'public')
const baseUrl = process.env.BASE_URL ?? 'http://127.0.0.1:3100'

const secrets = Object.entries({
  DISCORD_BOT_TOKEN: process.env.DISCORD_BOT_TOKEN,
  DISCORD_CLIENT_SECRET: process.env.DISCORD_CLIENT_SECRET,
  SESSION_SECRET: process.env.SESSION_SECRET,
  METRICS_TOKEN: process.env.METRICS_TOKEN,
}).filter(([, value]) => typeof value === 'string' && value.length >= 8)

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* walk(path)
    else yield path
  }
}

function assertClean(text, where) {
  for (const [name, value] of secrets) {
    assert.ok(!text.includes(value), `${name} found in ${where}`)
    // also catch a base64 copy of the value
    assert.ok(
      !text.includes(Buffer.from(value).toString('base64')),
      `${name} (base64) found in ${where}`,
    )
  }
}

test('the secrets under test are set', () => {
  assert.ok(
    secrets.length >= 3,
    'set DISCORD_BOT_TOKEN, DISCORD_CLIENT_SECRET and SESSION_SECRET to the run values',
  )
})

test('no secret in the built client bundle', async () => {
  let files = 0
  for await (const file of walk(publicDir)) {
    files++
    assertClean(await readFile(file, 'latin1'), file)
  }
  assert.ok(files > 0, `no files under ${publicDir}: build first`)
})

test('no secret in page responses', async () => {
  for (const path of [
    '/',
    '/signed-out',
    '/room-full',
    '/invite-expired',
    '/room-closed',
    '/rooms/abcdefghijkl',
    '/api/health',
    '/api/health/live',
    '/api/health/ready',
    '/metrics',
  ]) {
    const res = await fetch(new URL(path, baseUrl), { redirect: 'manual' })
    const text = await res.text()
    assertClean(
      `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}`,
      `GET ${path}`,
    )
  }
  const login = await fetch(new URL('/auth/login?returnTo=/', baseUrl), { redirect: 'manual' })
  assert.equal(login.status, 302)
  assertClean(
    `${login.headers.get('location')}\n${login.headers.get('set-cookie')}`,
    'GET /auth/login',
  )
})
