import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE_URL, launchBrowser, watchPage } from './browser.mjs'

let browser
before(async () => {
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
})

test('the home page renders in Chromium and says what the product is', async () => {
  const page = await browser.newPage()
  const problems = watchPage(page)
  await page.goto(BASE_URL, { waitUntil: 'networkidle' })
  assert.match(await page.title(), /Table Voice/)
  const heading = page.getByRole('heading', { level: 1 })
  assert.match(await heading.textContent(), /private voice room|playgroup/i)
  assert.match(await page.locator('body').textContent(), /Discord voice channel/)
  assert.deepEqual(problems, [])
  await page.close()
})

test('/api/health answers JSON with status, version and uptime', async () => {
  const page = await browser.newPage()
  const response = await page.request.get(`${BASE_URL}/api/health`, {
    headers: { authorization: `Bearer ${process.env.METRICS_TOKEN}` },
  })
  assert.equal(response.status(), 200)
  assert.match(response.headers()['content-type'] ?? '', /application\/json/)
  const body = await response.json()
  assert.equal(body.status, 'ok')
  assert.equal(typeof body.version, 'string')
  assert.equal(typeof body.uptimeSeconds, 'number')
  await page.close()
})
