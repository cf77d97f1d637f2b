// A flood of refused requests against the production server writes a few log lines, not one per
// request (src/server/log-throttle.ts): the server's output is the file scripts/e2e.sh names in
// E2E_SERVER_LOG (the server runs with LOG_LEVEL=warn there).
//   BASE_URL=... E2E_SERVER_LOG=... node --test tests/e2e/log-flood.e2e.mjs
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { test } from 'node:test'
import { BASE_URL } from './browser.mjs'

const FLOOD = 300
/** Lines of one kind the throttle writes per minute before it only counts. */
const MAX_LINES = 10

function linesWith(text) {
  const file = process.env.E2E_SERVER_LOG
  assert.ok(file, 'E2E_SERVER_LOG (scripts/e2e.sh sets it)')
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes(text))
}

/** A WebSocket upgrade from a foreign Origin; resolves with the HTTP status the server answered. */
function foreignUpgrade() {
  const { hostname, port } = new URL(BASE_URL)
  return new Promise((resolve, reject) => {
    const req = request({
      host: hostname,
      port,
      path: '/api/ws',
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13',
        origin: 'https://attacker.example',
      },
    })
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('upgrade', (_res, socket) => {
      socket.destroy()
      resolve(101)
    })
    req.on('error', reject)
    req.end()
  })
}

test(`${FLOOD} WebSocket upgrades from a foreign origin are refused and logged at most ${MAX_LINES} times`, async () => {
  const before = linesWith('websocket upgrade refused').length
  const statuses = []
  for (let i = 0; i < FLOOD; i += 50) {
    statuses.push(...(await Promise.all(Array.from({ length: 50 }, foreignUpgrade))))
  }
  assert.deepEqual(new Set(statuses), new Set([403]))
  // the server writes its log asynchronously; give it a moment
  await new Promise((resolve) => setTimeout(resolve, 500))
  const added = linesWith('websocket upgrade refused').slice(before)
  assert.ok(added.length >= 1, 'the refusals are logged')
  assert.ok(added.length <= MAX_LINES, `${added.length} lines for ${FLOOD} refused upgrades`)
  assert.match(added[0], /"origin":"https:\/\/attacker\.example"/)
})
