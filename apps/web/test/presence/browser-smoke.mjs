// Manual smoke check of the live room panel in Chromium against a running app + emulator:
//   BASE_URL=http://127.0.0.1:3456 EMULATOR_URL=http://127.0.0.1:18787 node test/presence/browser-smoke.mjs
// (The e2e suite proper lives in tests/e2e; this only exercises the presence UI quickly.)
import { chromium } from 'playwright-core'

const BASE = process.env.BASE_URL ?? 'http://127.0.0.1:3000'
const EMU = process.env.EMULATOR_URL ?? 'http://127.0.0.1:8787'
const emu = async (path, body) => {
  const r = await fetch(`${EMU}/_emulator${path}`, {
    method: body ? 'POST' : 'GET',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`)
  return r.json()
}
const step = (s) => console.log(`- ${s}`)

const username = `smoke${Date.now() % 100000}`
const user = await emu('/users', { username })
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
})
const page = await browser.newPage()
const problems = []
page.on('pageerror', (e) => problems.push(e.message))
try {
  await page.goto(`${BASE}/auth/login`)
  await page.getByRole('button', { name: `Authorize as ${username}` }).click()
  await page.waitForURL(`${BASE}/**`)
  step(`signed in as ${user.id}`)
  await page.waitForLoadState('networkidle')
  if (process.env.DEBUG) console.log(page.url(), await page.context().cookies())
  await page.getByLabel('Room name').fill('Smoke room')
  await page.getByRole('button', { name: /create/i }).click()
  await page.waitForURL(/\/rooms\//)
  step(`room page ${page.url()}`)
  await page.getByTestId('live-indicator').filter({ hasText: 'Live' }).waitFor({ timeout: 10_000 })
  step('live indicator says Live')
  const state = await emu('/state')
  const channelId =
    JSON.stringify(state).match(/"id":"(\d+)","[^}]*Smoke room/i)?.[1] ??
    Object.values(state.channels ?? {}).find((c) => /smoke/i.test(c.name ?? ''))?.id
  if (!channelId) throw new Error(`no channel in ${JSON.stringify(state).slice(0, 500)}`)
  const t0 = Date.now()
  await emu('/voice', { userId: user.id, channelId })
  await page.getByTestId(`voice-member-${user.id}`).waitFor({ timeout: 5000 })
  step(`joined voice -> member shown after ${Date.now() - t0} ms`)
  await emu('/voice', { userId: user.id, channelId, selfMute: true })
  await page
    .getByTestId(`voice-member-${user.id}`)
    .getByRole('img', { name: 'Muted' })
    .waitFor({ timeout: 5000 })
  step('mute icon shown')
  const t1 = Date.now()
  await emu('/voice', { userId: user.id, channelId: null })
  await page.getByRole('dialog', { name: 'You left voice' }).waitFor({ timeout: 5000 })
  step(`left voice -> dropout dialog after ${Date.now() - t1} ms`)
  if (problems.length) throw new Error(`page errors: ${problems.join('; ')}`)
  console.log('OK')
} catch (error) {
  console.log(
    page.url(),
    ((await page.locator('body').textContent()) ?? '').slice(0, 800),
    problems,
  )
  throw error
} finally {
  await browser.close()
}
