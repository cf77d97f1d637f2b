// Shared by the table's browser tests (table-*.e2e.mjs): players in their own browser contexts,
// signed in through the app's real OAuth flow against the emulator, and the checks that every
// page tells the same story.
import assert from 'node:assert/strict'
import { BASE_URL, EMULATOR_URL, emulator, watchPage } from './browser.mjs'
import { signInOverHttp } from './http-sign-in.mjs'

export const TIMEOUT = 15_000

/** A new emulator user with a display name (not a guild member until they join a room). */
export async function newPlayer(username, globalName) {
  const { id } = await emulator('/users', { username, globalName })
  return { id, username, globalName }
}

/** A browser context signed in as `user` (the real sign-in, over HTTP), and its first page. */
export async function personFor(browser, user) {
  const { cookie } = await signInOverHttp(user.id)
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } })
  await context.addCookies(
    cookie.split('; ').map((pair) => {
      const [name, ...value] = pair.split('=')
      return { name, value: value.join('='), url: BASE_URL }
    }),
  )
  const page = await context.newPage()
  const problems = watchPage(page)
  return { user, context, page, problems }
}

/** Polls an async check until it holds (or fails with `message`). */
export async function eventually(check, message, ms = TIMEOUT) {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) assert.fail(message)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export const seat = (page, user) => page.getByTestId(`seat-${user.id}`)
export const seats = (page) =>
  page.getByRole('list', { name: 'Seats' }).locator('[data-testid^="seat-"]')
export const spectatorItem = (page, user) => page.getByTestId(`spectator-${user.id}`)
export const summary = (page) => page.getByTestId('room-summary')
export const live = (page) => page.getByTestId('live-indicator')

/** The room's Discord channel id, from the page's "Open in Discord" link. */
export async function channelOf(page) {
  const href = await page
    .getByRole('link', { name: 'Open in Discord' })
    .first()
    .getAttribute('href')
  return href.split('/').at(-1)
}

/** The channel as Discord's REST API shows it to the bot (the emulator's, with the run's token). */
export async function discordChannel(channelId) {
  const response = await fetch(`${EMULATOR_URL}/api/v10/channels/${channelId}`, {
    headers: { authorization: `Bot ${process.env.DISCORD_BOT_TOKEN}` },
  })
  assert.equal(response.status, 200, 'GET /channels/{id} as the bot')
  return response.json()
}

/**
 * Watches a room page from now on, in the browser: after every DOM change, the header's seat
 * count must equal the seats shown, and (while `minSeats` is set) no fewer than `minSeats` seats
 * may be shown. `report()` says what was ever seen that broke either rule.
 */
export async function watchTable(page, minSeats) {
  await page.evaluate((min) => {
    const w = window
    w.__table = { mismatch: [], tooFew: [] }
    const check = () => {
      const header = document.querySelector('[data-testid="room-summary"]')
      // Not on a room page (the tab went home): nothing to compare.
      if (!header) return
      const shown = document.querySelectorAll('[data-testid^="seat-"]').length
      const text = header.textContent ?? ''
      const count = Number(/^(\d+) of/.exec(text)?.[1] ?? Number.NaN)
      if (count !== shown) w.__table.mismatch.push(`${text} / ${shown} seats`)
      if (min !== null && shown < min) w.__table.tooFew.push(`${shown} seats`)
    }
    new MutationObserver(check).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
    })
    check()
  }, minSeats)
  return {
    report: () => page.evaluate(() => window.__table),
  }
}

/** The seats taken as a room page's header tells them. */
export async function headerSeats(page) {
  const text = await summary(page).textContent()
  return Number(/^(\d+) of 4 seats taken/.exec(text ?? '')?.[1] ?? Number.NaN)
}

/** A home page's line for the room: "N/4 players · K in voice". */
export async function homeCounts(page, roomId) {
  const text = await page.getByTestId(`my-room-${roomId}`).getByTestId('room-counts').textContent()
  const match = /^(\d+)\/4 players · (\d+) in voice/.exec(text ?? '')
  return match ? { players: Number(match[1]), inVoice: Number(match[2]) } : null
}

/** A room page's voice count ("In voice (K)"). */
export async function voiceCount(page) {
  const text = await page.getByRole('heading', { name: /^In voice \(\d+\)$/ }).textContent()
  return Number(/\((\d+)\)/.exec(text ?? '')?.[1])
}

/**
 * Every room page and home page agrees on the seats taken and who is in voice, and each room
 * page's header agrees with its own seats, once the pages have caught up.
 */
export async function agree({ rooms, homes, roomId, players, inVoice }) {
  await eventually(async () => {
    for (const page of rooms) {
      if ((await headerSeats(page)) !== players) return false
      if ((await seats(page).count()) !== players) return false
      if ((await voiceCount(page)) !== inVoice) return false
    }
    for (const page of homes) {
      const counts = await homeCounts(page, roomId).catch(() => null)
      if (counts?.players !== players || counts?.inVoice !== inVoice) return false
    }
    return true
  }, `every page agrees on ${players} seats taken and ${inVoice} in voice`)
}

/** Waits until the locator's text contains `text` (names also appear in buttons' hidden labels). */
export function shows(locator, text, ms = TIMEOUT) {
  return eventually(
    async () => ((await locator.textContent().catch(() => '')) ?? '').includes(text),
    `shows ${text}`,
    ms,
  )
}
