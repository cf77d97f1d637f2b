// The operator and load-balancer endpoints of the production server (scripts/e2e.sh starts it with
// a METRICS_TOKEN): /api/health/live and /api/health/ready are public and say nothing more than
// their status; /metrics and the detailed /api/health need the bearer token.
//   BASE_URL=... METRICS_TOKEN=... node --test tests/e2e/ops-endpoints.e2e.mjs
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BASE_URL } from './browser.mjs'

const token = process.env.METRICS_TOKEN
const get = (path, headers = {}) => fetch(`${BASE_URL}${path}`, { headers })

test('the server runs with a METRICS_TOKEN', () => {
  assert.ok(token && token.length >= 32, 'METRICS_TOKEN (scripts/e2e.sh exports it)')
})

test('/api/health/live and /api/health/ready answer anyone, with their status only', async () => {
  const live = await get('/api/health/live')
  assert.equal(live.status, 200)
  assert.deepEqual(await live.json(), { status: 'live' })
  const ready = await get('/api/health/ready')
  assert.equal(ready.status, 200)
  assert.deepEqual(await ready.json(), { status: 'ready' })
  assert.equal(ready.headers.get('cache-control'), 'no-store')
})

for (const path of ['/api/health', '/metrics']) {
  test(`${path} answers 401 without the token or with a wrong one`, async () => {
    for (const headers of [
      {},
      { authorization: `Bearer ${'x'.repeat(token.length)}` },
      { authorization: `Bearer ${token.slice(1)}` },
      { authorization: `Basic ${token}` },
    ]) {
      const response = await get(path, headers)
      assert.equal(response.status, 401, JSON.stringify(headers))
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/)
      assert.deepEqual(await response.json(), { error: 'unauthorized' })
    }
  })
}

test('/api/health and /metrics answer with the bearer token', async () => {
  const authorization = `Bearer ${token}`
  const health = await get('/api/health', { authorization })
  assert.equal(health.status, 200)
  const body = await health.json()
  assert.equal(body.status, 'ok')
  assert.equal(body.gateway.state, 'ready')
  const metrics = await get('/metrics', { authorization })
  assert.equal(metrics.status, 200)
  assert.match(await metrics.text(), /^# HELP presence_/m)
})
