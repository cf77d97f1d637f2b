// The table, in Chromium against the production build and the emulator (issue 21): three players
// and a spectator on their own pages; the header, the seats and "Your rooms" agreeing all along;
// a display-name change in Discord reaching every page; a drop and a return inside the grace,
// then one past it; the host handing over by leaving and by expiring; the lock refusing joins by
// link and by code while the watch link still works. scripts/e2e.sh runs the server with
// SEAT_GRACE_SECONDS=15 (a drop is confirmed after 5 s away).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { BASE_URL, emulator, launchBrowser } from './browser.mjs'
import {
  agree,
  channelOf,
  discordChannel,
  eventually,
  newPlayer,
  personFor,
  seat,
  seats,
  shows,
  spectatorItem,
  summary,
  TIMEOUT,
  watchTable,
} from './table-helpers.mjs'

const GRACE_MS = Number(process.env.SEAT_GRACE_SECONDS ?? 15) * 1000
const DROP_MS = 5_000
const VIEW = 1n << 10n
const CONNECT = 1n << 20n
const SPEAK = 1n << 21n
const STREAM = 1n << 9n // "Video" in Discord's settings

let browser
const people = {}
const homes = {}
let roomUrl
let roomId
let channelId
let code
let inviteUrl
let watchUrl
const watchers = []

const roomPages = () =>
  ['host', 'tamsin', 'priya', 'fan'].filter((k) => people[k]).map((k) => people[k].page)

describe('at the table', { concurrency: false, timeout: 240_000 }, () => {
  before(async () => {
    browser = await launchBrowser()
    const stamp = Date.now().toString(36)
    const [host, tamsin, priya, fan, ines] = await Promise.all([
      newPlayer(`t.morgan.${stamp}`, 'Morgan'),
      newPlayer(`t.tamsin.${stamp}`, 'Tamsin'),
      newPlayer(`t.priya.${stamp}`, 'Priya'),
      newPlayer(`t.dario.${stamp}`, 'Dario'),
      newPlayer(`t.ines.${stamp}`, 'Ines'),
    ])
    for (const [key, user] of Object.entries({ host, tamsin, priya, fan, ines })) {
      people[key] = await personFor(browser, user)
    }
  })
  after(async () => {
    for (const p of Object.values(people)) await p.context.close()
    await browser?.close()
  })

  test('three players (by code and by link) and a spectator (by the watch link), on their own pages', async () => {
    const { host, tamsin, priya, fan } = people
    await host.page.goto(BASE_URL)
    await host.page.getByLabel('Room name').fill('Friday Table')
    await host.page.getByRole('button', { name: 'Create room' }).click()
    await host.page.waitForURL(/\/rooms\/[A-Za-z0-9_-]+\/?$/)
    roomUrl = host.page.url()
    roomId = new URL(roomUrl).pathname.split('/')[2]
    channelId = await channelOf(host.page)
    code = await host.page.getByLabel('Room code').inputValue()
    assert.match(code, /^[ABCDEFGHJKMNPQRSTWXYZ2-9]{6}$/)
    inviteUrl = await host.page.getByLabel('Invite link').inputValue()
    // The app link opens the same channel in the installed Discord app.
    assert.equal(
      await host.page.getByRole('link', { name: 'Open in the Discord app' }).getAttribute('href'),
      `discord://-/channels/${(await emulator('/state')).guildId}/${channelId}`,
    )

    // Tamsin types the code on the home page (in lower case, with a dash: it is forgiving).
    await tamsin.page.goto(BASE_URL)
    await tamsin.page
      .getByLabel('Room code')
      .fill(`${code.slice(0, 3)}-${code.slice(3)}`.toLowerCase())
    await tamsin.page.getByRole('button', { name: 'Join with code' }).click()
    await tamsin.page.waitForURL(roomUrl)
    // Priya follows the invite link.
    await priya.page.goto(inviteUrl)
    await priya.page.getByRole('button', { name: 'Join room' }).click()
    await priya.page.waitForURL(roomUrl)

    await host.page.getByRole('button', { name: 'Create watch link' }).click()
    const watchField = host.page.getByLabel('Watch link')
    await watchField.waitFor({ timeout: TIMEOUT })
    watchUrl = await watchField.inputValue()
    await fan.page.goto(watchUrl)
    await fan.page.getByRole('button', { name: 'Watch room' }).click()
    await fan.page.waitForURL(roomUrl)

    for (const page of roomPages()) {
      for (const p of [host, tamsin, priya]) await seat(page, p.user).waitFor({ timeout: TIMEOUT })
      await spectatorItem(page, fan.user).waitFor({ timeout: TIMEOUT })
      assert.equal(await seat(page, fan.user).count(), 0, 'the spectator has no seat')
      assert.equal(await seats(page).count(), 3)
      // Who is here: every player has the page open.
      for (const p of [host, tamsin, priya]) {
        await seat(page, p.user).getByText('Page open').waitFor({ timeout: TIMEOUT })
      }
      await spectatorItem(page, fan.user).getByText('Page open').waitFor({ timeout: TIMEOUT })
    }
    await summary(fan.page).getByText('You are watching').waitFor()
    await summary(host.page).getByText('You are the host').waitFor()
    await summary(priya.page).getByText('You are a player').waitFor()
    // What only players may see is not on the spectator's page (nor sent to it).
    assert.equal(await fan.page.getByLabel('Invite link').count(), 0)
    assert.equal(await fan.page.getByLabel('Room code').count(), 0)
    assert.equal(await fan.page.getByLabel('Watch link').count(), 0)
    const html = await fan.page.content()
    assert.ok(!html.includes(code), 'the room code never reaches the spectator')
    assert.ok(!html.includes(new URL(inviteUrl).searchParams.get('t')), 'nor the invite token')
    // Only the host has host controls.
    assert.equal(await priya.page.getByRole('button', { name: 'Lock room' }).count(), 0)
    assert.equal(await priya.page.getByRole('button', { name: /^Kick / }).count(), 0)
    await host.page.getByRole('button', { name: 'Lock room' }).waitFor()
    await host.page.getByRole('button', { name: 'Kick Tamsin' }).waitFor()
    await host.page.getByRole('button', { name: 'Remove spectator Dario' }).waitFor()

    // In Discord the spectator may see and join the channel but neither talk nor show video.
    const channel = await discordChannel(channelId)
    const overwrite = (id) => channel.permission_overwrites.find((o) => o.id === id)
    const fanOverwrite = overwrite(fan.user.id)
    assert.ok(fanOverwrite, 'the spectator has an overwrite on the room channel')
    assert.equal(BigInt(fanOverwrite.allow) & (VIEW | CONNECT), VIEW | CONNECT)
    assert.equal(BigInt(fanOverwrite.deny) & (SPEAK | STREAM), SPEAK | STREAM)
    assert.equal(BigInt(fanOverwrite.allow) & SPEAK, 0n)
    assert.equal(BigInt(overwrite(tamsin.user.id).allow) & SPEAK, SPEAK)
    assert.equal(channel.user_limit, 5, 'four seats plus the one spectator')

    for (const page of roomPages()) watchers.push({ page, watch: await watchTable(page, null) })
  })

  test('the header, the seats and "Your rooms" agree, also when people come into voice', async () => {
    const { host, tamsin, fan } = people
    homes.host = await host.context.newPage()
    homes.tamsin = await tamsin.context.newPage()
    for (const home of Object.values(homes)) {
      await home.goto(BASE_URL)
      await home.getByTestId(`my-room-${roomId}`).waitFor({ timeout: TIMEOUT })
    }
    // The spectator does not list a room they only watch.
    await fan.page.goto(BASE_URL)
    await fan.page.getByRole('heading', { name: 'Your rooms' }).waitFor()
    assert.equal(await fan.page.getByTestId(`my-room-${roomId}`).count(), 0)
    await fan.page.goto(roomUrl)
    await spectatorItem(fan.page, fan.user).waitFor({ timeout: TIMEOUT })
    watchers.push({ page: fan.page, watch: await watchTable(fan.page, null) })

    const check = (inVoice) =>
      agree({ rooms: roomPages(), homes: Object.values(homes), roomId, players: 3, inVoice })
    await check(0)
    await emulator('/voice', { userId: tamsin.user.id, channelId })
    await check(1)
    await emulator('/voice', { userId: fan.user.id, channelId })
    await check(2)
    // The spectator in voice is marked as one, and listens.
    await host.page
      .getByTestId(`voice-member-${fan.user.id}`)
      .getByText('spectator')
      .waitFor({ timeout: TIMEOUT })
    await spectatorItem(host.page, fan.user).getByText('Listening').waitFor({ timeout: TIMEOUT })
  })

  test('a display-name change in Discord reaches every page', async () => {
    const { tamsin, priya, fan } = people
    // Priya is not in voice (GUILD_MEMBER_UPDATE), Tamsin is (and her voice state follows).
    await emulator('/users/profile', { userId: priya.user.id, globalName: 'Priya the Bold' })
    await emulator('/users/profile', { userId: tamsin.user.id, globalName: 'Tamsin Two' })
    await emulator('/users/profile', { userId: fan.user.id, globalName: 'Dario Watching' })
    for (const page of roomPages()) {
      await shows(seat(page, priya.user), 'Priya the Bold')
      await shows(seat(page, tamsin.user), 'Tamsin Two')
      await shows(page.getByTestId(`voice-member-${tamsin.user.id}`), 'Tamsin Two')
      await shows(spectatorItem(page, fan.user), 'Dario Watching')
    }
    // The new name is stored too: a page opened now shows it from the start.
    const fresh = await priya.context.newPage()
    await fresh.goto(roomUrl)
    await shows(seat(fresh, tamsin.user), 'Tamsin Two')
    await fresh.close()
  })

  test('a drop and a return inside the grace: the seat is held, nobody ever sees it empty', async () => {
    const { host, tamsin, priya, fan } = people
    const observers = [host.page, tamsin.page, fan.page]
    const during = []
    for (const page of observers) during.push(await watchTable(page, 3))
    // Priya's page goes away (she is not in voice either).
    await priya.page.close()
    // At once: her page is closed (who is here); a few seconds later (no reload came back): dropped.
    await seat(host.page, priya.user).getByText('Page closed').waitFor({ timeout: DROP_MS })
    for (const page of observers) {
      await seat(page, priya.user)
        .getByText(/^Dropped, seat held for \d+:\d\d$/)
        .waitFor({ timeout: DROP_MS + TIMEOUT })
    }
    // Back within the grace: the same seat, no longer dropped.
    priya.page = await priya.context.newPage()
    await priya.page.goto(roomUrl)
    for (const page of [...observers, priya.page]) {
      await seat(page, priya.user).getByText('Page open').waitFor({ timeout: TIMEOUT })
      assert.equal(
        await seat(page, priya.user)
          .getByText(/Dropped/)
          .count(),
        0,
      )
    }
    assert.deepEqual((await seats(host.page).allTextContents()).map((t) => t.slice(0, 6)).length, 3)
    for (const watch of during) assert.deepEqual((await watch.report()).tooFew, [])
    watchers.push({ page: priya.page, watch: await watchTable(priya.page, null) })
    await agree({ rooms: roomPages(), homes: Object.values(homes), roomId, players: 3, inVoice: 2 })
  })

  test('the host leaves on purpose: the longest-seated player becomes host, at once, everywhere', async () => {
    const { host, tamsin, priya, fan } = people
    await host.page.getByRole('button', { name: 'Leave room' }).click()
    await host.page.waitForURL(`${BASE_URL}/`)
    delete people.host
    for (const page of roomPages()) {
      await seat(page, tamsin.user).getByText('host', { exact: true }).waitFor({ timeout: TIMEOUT })
      assert.equal(await seat(page, host.user).count(), 0)
    }
    await summary(tamsin.page).getByText('You are the host').waitFor({ timeout: TIMEOUT })
    await tamsin.page.getByRole('button', { name: 'Lock room' }).waitFor({ timeout: TIMEOUT })
    assert.equal(await priya.page.getByRole('button', { name: 'Lock room' }).count(), 0)
    assert.equal(await fan.page.getByRole('button', { name: 'Lock room' }).count(), 0)
    // The former host's rooms no longer list it, on both of their pages.
    for (const page of [host.page, homes.host]) {
      await eventually(
        async () => (await page.getByTestId(`my-room-${roomId}`).count()) === 0,
        'the room left the former host’s list',
      )
    }
    delete homes.host
    await agree({ rooms: roomPages(), homes: Object.values(homes), roomId, players: 2, inVoice: 2 })
  })

  test('a drop past the grace frees the seat, and a host whose seat expires hands over', async () => {
    const { tamsin, priya, fan } = people
    // Tamsin, now the host, leaves voice and closes the room page (her home page stays open: a
    // list of rooms is not the room page).
    await emulator('/voice', { userId: tamsin.user.id, channelId: null })
    await tamsin.page.close()
    delete people.tamsin
    const started = Date.now()
    for (const page of [priya.page, fan.page]) {
      await seat(page, tamsin.user)
        .getByText(/^Dropped, seat held for \d+:\d\d$/)
        .waitFor({ timeout: DROP_MS + TIMEOUT })
    }
    // The seat stays held for the grace, then it is free and Priya hosts.
    for (const page of [priya.page, fan.page]) {
      await seat(page, tamsin.user).waitFor({ state: 'detached', timeout: GRACE_MS + TIMEOUT })
    }
    assert.ok(Date.now() - started >= GRACE_MS, 'not before the grace period ended')
    await summary(priya.page).getByText('You are the host').waitFor({ timeout: TIMEOUT })
    await seat(fan.page, priya.user)
      .getByText('host', { exact: true })
      .waitFor({ timeout: TIMEOUT })
    await priya.page.getByRole('button', { name: 'Lock room' }).waitFor({ timeout: TIMEOUT })
    await eventually(
      async () => (await homes.tamsin.getByTestId(`my-room-${roomId}`).count()) === 0,
      'the room left the dropped player’s list',
    )
    // Her channel access went with the seat.
    const channel = await discordChannel(channelId)
    assert.equal(
      channel.permission_overwrites.some((o) => o.id === tamsin.user.id),
      false,
    )
    await agree({ rooms: roomPages(), homes: [], roomId, players: 1, inVoice: 1 })
  })

  test('a locked room refuses a join by link and by code; the watch link still works', async () => {
    const { priya, ines, fan } = people
    await priya.page.getByRole('button', { name: 'Lock room' }).click()
    for (const page of roomPages()) {
      await page.locator('.room-header').getByText('Locked').waitFor({ timeout: TIMEOUT })
    }
    await priya.page.getByRole('button', { name: 'Unlock room' }).waitFor()
    // By link.
    await ines.page.goto(inviteUrl)
    await ines.page.getByTestId('locked-notice').waitFor({ timeout: TIMEOUT })
    await ines.page.getByRole('button', { name: 'Join room' }).click()
    await ines.page
      .getByRole('alert')
      .getByText('The host has locked this room: no new players can join for now.')
      .waitFor({ timeout: TIMEOUT })
    // By code.
    await ines.page.goto(BASE_URL)
    await ines.page.getByLabel('Room code').fill(code)
    await ines.page.getByRole('button', { name: 'Join with code' }).click()
    await ines.page
      .getByRole('alert')
      .getByText('The host has locked this room: no new players can join for now.')
      .waitFor({ timeout: TIMEOUT })
    assert.equal(await seats(priya.page).count(), 1)
    // The watch link is not locked: Ines watches.
    await ines.page.goto(watchUrl)
    await ines.page.getByRole('button', { name: 'Watch room' }).click()
    await ines.page.waitForURL(roomUrl)
    await spectatorItem(priya.page, ines.user).waitFor({ timeout: TIMEOUT })
    // Unlocked, the code seats her (a spectator taking a seat stops spectating).
    await priya.page.getByRole('button', { name: 'Unlock room' }).click()
    await priya.page.getByRole('button', { name: 'Lock room' }).waitFor({ timeout: TIMEOUT })
    const home = await ines.context.newPage()
    await home.goto(BASE_URL)
    await home.getByLabel('Room code').fill(code)
    await home.getByRole('button', { name: 'Join with code' }).click()
    await home.waitForURL(roomUrl)
    await seat(priya.page, ines.user).waitFor({ timeout: TIMEOUT })
    assert.equal(await spectatorItem(priya.page, ines.user).count(), 0)
    await spectatorItem(priya.page, fan.user).waitFor()
  })

  test('no page ever showed a header that disagreed with its seats, and nothing failed', async () => {
    for (const { page, watch } of watchers) {
      if (page.isClosed()) continue
      assert.deepEqual((await watch.report()).mismatch, [], page.url())
    }
    const expected = (problem) =>
      problem.includes('cdn.discordapp.com') ||
      // the refused joins of the lock test answer 409 (typed errors, shown on the page)
      /^409 \/_serverFn\//.test(problem)
    for (const p of Object.values(people)) {
      assert.deepEqual(
        p.problems.filter((x) => !expected(x)),
        [],
        p.user.username,
      )
    }
  })
})
