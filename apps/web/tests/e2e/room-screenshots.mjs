// Screenshots of the room page for docs/room-page.md: the host's, a player's and a spectator's
// view, desktop and mobile, against the production build and the emulator. Not part of the test
// run (the name does not end in .e2e.mjs); make them with
//   cd apps/web && ./node_modules/.bin/vite build && cd ../.. && \
//   SEAT_GRACE_SECONDS=600 bash scripts/e2e.sh tests/e2e/room-screenshots.mjs
// (a long grace, so the dropped seat is still held when the pictures are taken).
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { BASE_URL, emulator, launchBrowser } from './browser.mjs'
import { channelOf, newPlayer, personFor, seat, TIMEOUT } from './table-helpers.mjs'

const OUT = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '..',
  'docs',
  'screenshots',
)
const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 },
  mobile: {
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  },
}

let browser
before(async () => {
  browser = await launchBrowser()
  await mkdir(OUT, { recursive: true })
})
after(async () => {
  await browser?.close()
})

test('the room page as the host, a player and a spectator see it', {
  timeout: 120_000,
}, async () => {
  const stamp = Date.now().toString(36)
  const [host, tamsin, priya, fan] = await Promise.all([
    newPlayer(`s.morgan.${stamp}`, 'Morgan'),
    newPlayer(`s.tamsin.${stamp}`, 'Tamsin'),
    newPlayer(`s.priya.${stamp}`, 'Priya'),
    newPlayer(`s.dario.${stamp}`, 'Dario'),
  ])
  const people = {}
  for (const [key, user] of Object.entries({ host, tamsin, priya, fan })) {
    people[key] = await personFor(browser, user)
  }
  const { page } = people.host
  await page.goto(BASE_URL)
  await page.getByLabel('Room name').fill('Friday Commander')
  await page.getByRole('button', { name: 'Create room' }).click()
  await page.waitForURL(/\/rooms\/[A-Za-z0-9_-]+\/?$/)
  const roomUrl = page.url()
  const channelId = await channelOf(page)
  const invite = await page.getByLabel('Invite link').inputValue()
  for (const p of [people.tamsin, people.priya]) {
    await p.page.goto(invite)
    await p.page.getByRole('button', { name: 'Join room' }).click()
    await p.page.waitForURL(roomUrl)
  }
  await page.getByRole('button', { name: 'Create watch link' }).click()
  const watch = await page.getByLabel('Watch link').inputValue()
  await people.fan.page.goto(watch)
  await people.fan.page.getByRole('button', { name: 'Watch room' }).click()
  await people.fan.page.waitForURL(roomUrl)
  // Voice: the host on camera, Tamsin muted, the spectator listening.
  await emulator('/voice', { userId: host.id, channelId, selfVideo: true })
  await emulator('/voice', { userId: tamsin.id, channelId, selfMute: true })
  await emulator('/voice', { userId: fan.id, channelId })
  // Priya's connection drops: her seat is held.
  await people.priya.page.close()
  await seat(page, priya)
    .getByText(/^Dropped, seat held for/)
    .waitFor({ timeout: TIMEOUT })

  for (const [who, person] of [
    ['host', people.host],
    ['player', people.tamsin],
    ['spectator', people.fan],
  ]) {
    for (const [name, options] of Object.entries(VIEWPORTS)) {
      const context = await browser.newContext(options)
      await context.addCookies(await person.context.cookies())
      const shot = await context.newPage()
      await shot.goto(roomUrl)
      await shot.getByTestId('live-indicator').getByText('Live').waitFor({ timeout: TIMEOUT })
      await seat(shot, priya)
        .getByText(/^Dropped/)
        .waitFor({ timeout: TIMEOUT })
      await shot.getByTestId(`voice-member-${fan.id}`).waitFor({ timeout: TIMEOUT })
      // The countdown ticks: freeze it for a stable picture.
      await shot.clock?.pauseAt?.(Date.now()).catch(() => {})
      const file = join(OUT, `room-${who}-${name}.png`)
      await shot.screenshot({ path: file, fullPage: true })
      await context.close()
      assert.ok(file)
    }
  }
  for (const p of Object.values(people)) await p.context.close()
})
