// The bot removed from the Discord server of an open room (issue 20), in Chromium against the
// production build and the emulator: the gateway reports the removal (GUILD_DELETE without
// `unavailable`), the room closes with reason guild_removed, its page says why and goes home,
// where it is said again. The bot is added back afterwards, and the server takes rooms again.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { BASE_URL, EMULATOR_URL, emulator, launchBrowser, watchPage } from './browser.mjs'

const TIMEOUT = 15_000
const MESSAGE = /the bot was removed from its Discord server/
let browser
let context
let guildId

async function health() {
  const response = await fetch(`${BASE_URL}/api/health`, {
    headers: { authorization: `Bearer ${process.env.METRICS_TOKEN}` },
  })
  return response.json()
}

async function waitFor(check, message) {
  const deadline = Date.now() + TIMEOUT
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) assert.fail(message)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('the bot removed from a room’s server', () => {
  before(async () => {
    browser = await launchBrowser()
    guildId = (await emulator('/state')).guildId
  })
  after(async () => {
    await context?.close()
    await browser?.close()
    // Back as it was for the other tests: the bot in the server, which takes rooms again.
    await emulator('/bot/membership', { member: true, guildId })
    await waitFor(
      async () => (await health()).guilds?.find((g) => g.id === guildId)?.placeable === true,
      'the server takes rooms again once the bot is back',
    )
  })

  test('the room page says so and goes home, which says it again', async () => {
    const username = `removal${Date.now().toString(36)}`
    await emulator('/users', { username })
    context = await browser.newContext()
    const page = await context.newPage()
    const problems = watchPage(page)
    await page.goto(BASE_URL)
    await page.getByRole('button', { name: 'Sign in with Discord' }).click()
    await page.waitForURL((url) => url.href.startsWith(`${EMULATOR_URL}/oauth2/authorize`))
    await page.getByRole('button', { name: `Authorize as ${username}` }).click()
    await page.waitForURL((url) => url.href.startsWith(BASE_URL))
    await page.getByLabel('Room name').fill('Server goes away')
    await page.getByRole('button', { name: 'Create room' }).click()
    await page.waitForURL(/\/rooms\/[A-Za-z0-9_-]+\/?$/)
    const roomUrl = page.url()
    await page.getByTestId('live-indicator').getByText('Live').waitFor({ timeout: TIMEOUT })

    await emulator('/bot/membership', { member: false, guildId })
    const alert = page.getByRole('alert').filter({ hasText: MESSAGE })
    await alert.waitFor({ timeout: TIMEOUT })
    assert.equal(page.url(), roomUrl, 'the room page says it before going home')
    await page.waitForURL(`${BASE_URL}/?closed=guild_removed`, { timeout: TIMEOUT })
    await page.getByRole('alert').filter({ hasText: MESSAGE }).waitFor({ timeout: TIMEOUT })
    const removed = (await health()).guilds.find((g) => g.id === guildId)
    assert.equal(removed.state, 'removed')
    assert.equal(removed.rooms, 0)
    assert.deepEqual(problems, [])
  })
})
