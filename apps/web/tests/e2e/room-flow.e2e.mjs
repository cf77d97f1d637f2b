// The whole product in Chromium against the production build and the emulator:
// two players sign in with Discord, one creates a room, the other joins by invite,
// both end up in the room's voice channel, and live presence stays right through
// voice changes, a dropped browser socket, a Discord session loss and the room's close.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { BASE_URL, EMULATOR_URL, emulator, launchBrowser, SECRETS, watchPage } from './browser.mjs'

const TIMEOUT = 10_000
let browser
let world
let host // Morgan: a guild member, already sitting in the Lobby voice channel
let guest // Ines: not yet a guild member, not in voice
let bystander // Tamsin: joins the room's channel straight from Discord
const players = {}
let roomUrl
let channelId

function userNamed(username) {
  const user = world.users.find((u) => u.username === username)
  assert.ok(user, `emulator user ${username}`)
  return user
}

async function voiceChannelOf(userId) {
  const state = await emulator('/state')
  return state.voiceStates.find((v) => v.userId === userId)?.channelId ?? null
}

async function waitFor(check, message) {
  const deadline = Date.now() + TIMEOUT
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) assert.fail(message)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Signs a fresh browser context in as `user` through the app's "Sign in with Discord". */
async function signIn(user, startUrl = BASE_URL) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const problems = watchPage(page)
  await page.goto(startUrl)
  if (startUrl === BASE_URL)
    await page.getByRole('button', { name: 'Sign in with Discord' }).click()
  // Discord's (the emulator's) authorize page: pick who we are.
  await page.waitForURL((url) => url.href.startsWith(`${EMULATOR_URL}/oauth2/authorize`))
  await page.getByRole('button', { name: `Authorize as ${user.username}` }).click()
  await page.waitForURL((url) => url.href.startsWith(BASE_URL))
  return { context, page, problems }
}

/** Routes the page's /api/ws socket through Playwright so a test can cut it. */
async function cuttableSocket(page) {
  const control = { blocked: false, live: [] }
  await page.routeWebSocket(/\/api\/ws/, (ws) => {
    if (control.blocked) {
      ws.close({ code: 1011, reason: 'test: network down' })
      return
    }
    ws.connectToServer()
    control.live.push(ws)
  })
  control.cut = async () => {
    control.blocked = true
    for (const ws of control.live.splice(0)) await ws.close({ code: 1011, reason: 'test: cut' })
  }
  control.restore = () => {
    control.blocked = false
  }
  return control
}

const member = (page, user) => page.getByTestId(`voice-member-${user.id}`)
const live = (page) => page.getByTestId('live-indicator')

describe('a room from sign-in to close', { concurrency: false, timeout: 180_000 }, () => {
  before(async () => {
    assert.ok(SECRETS.length === 4, 'scripts/e2e.sh exports the run secrets')
    browser = await launchBrowser()
    world = await emulator('/state')
    host = userNamed('morgan.le.fay')
    guest = userNamed('llanowar.elf')
    bystander = userNamed('urzas_apprentice')
    const lobby = world.channels.find((c) => c.type === 2 && c.name === 'Lobby')
    await emulator('/voice', { userId: host.id, channelId: lobby.id })
  })
  after(async () => {
    for (const p of Object.values(players)) await p.context.close()
    await browser?.close()
  })

  test('the host signs in, creates a room and is moved from the Lobby into its channel', async () => {
    players.host = await signIn(host)
    const { page } = players.host
    await page.getByLabel('Room name').fill('Friday Commander')
    await page.getByRole('button', { name: 'Create room' }).click()
    await page.waitForURL(/\/rooms\/[A-Za-z0-9_-]+\/?$/)
    roomUrl = page.url()
    await page.getByRole('heading', { level: 1, name: 'Friday Commander' }).waitFor()
    const discordLink = await page
      .getByRole('link', { name: 'Open in Discord' })
      .getAttribute('href')
    channelId = discordLink.split('/').at(-1)
    await page.getByRole('button', { name: 'Connect voice' }).click()
    await page
      .getByTestId('voice-status')
      .getByText(/moved|in the room/)
      .waitFor({ timeout: TIMEOUT })
    const state = await emulator('/state')
    const room = state.channels.find((c) => c.id === channelId)
    assert.ok(room, 'the room has a voice channel in the guild')
    assert.equal(room.type, 2)
    assert.equal(room.userLimit, 4)
    assert.equal(await voiceChannelOf(host.id), channelId)
    await member(page, host).waitFor({ timeout: TIMEOUT })
    await live(page).getByText('Live').waitFor({ timeout: TIMEOUT })
  })

  test('the guest opens the invite link, signs in, joins and follows the voice link', async () => {
    const invite = await players.host.page.getByLabel('Invite link').inputValue()
    assert.match(invite, /^http:\/\/127\.0\.0\.1:\d+\//)
    players.guest = await signIn(guest, invite)
    const { page } = players.guest
    await page.getByRole('button', { name: 'Join room' }).click()
    await page.waitForURL(roomUrl)
    await players.host.page.getByTestId(`seat-${guest.id}`).waitFor({ timeout: TIMEOUT })
    // Not in voice: the app cannot pull them in, so it offers Discord's channel link.
    await page.getByRole('button', { name: 'Connect voice' }).click()
    const link = page.getByRole('link', { name: 'Join the voice channel in Discord' })
    await link.waitFor({ timeout: TIMEOUT })
    const href = await link.getAttribute('href')
    assert.equal(href, `${EMULATOR_URL}/channels/${world.guildId}/${channelId}`)
    // The "Discord client" knows the guest from the authorize step, as discord.com would.
    const discord = await players.guest.context.newPage()
    await discord.goto(href)
    await discord.getByRole('button', { name: 'Join voice' }).click()
    await waitFor(async () => (await voiceChannelOf(guest.id)) === channelId, 'guest in voice')
    await discord.close()
    for (const p of [players.host.page, page]) {
      await member(p, host).waitFor({ timeout: TIMEOUT })
      await member(p, guest).waitFor({ timeout: TIMEOUT })
    }
  })

  test('a join and a mute made in Discord show on both pages', async () => {
    await emulator('/voice', { userId: bystander.id, channelId })
    await emulator('/voice', { userId: host.id, channelId, selfMute: true })
    for (const p of [players.host.page, players.guest.page]) {
      await member(p, bystander).waitFor({ timeout: TIMEOUT })
      await member(p, host).getByRole('img', { name: 'Muted' }).waitFor({ timeout: TIMEOUT })
    }
  })

  test('leaving voice opens the rejoin dialog on that player’s page only', async () => {
    await emulator('/voice', { userId: guest.id, channelId: null })
    const dialog = players.guest.page.getByRole('dialog', { name: 'You left voice' })
    await dialog.waitFor({ timeout: TIMEOUT })
    assert.equal(
      await dialog.getByRole('link', { name: 'Rejoin in Discord' }).getAttribute('href'),
      `${EMULATOR_URL}/channels/${world.guildId}/${channelId}`,
    )
    await member(players.host.page, guest).waitFor({ state: 'detached', timeout: TIMEOUT })
    assert.equal(await players.host.page.getByRole('dialog').count(), 0)
    // Nothing rejoins by itself.
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(await voiceChannelOf(guest.id), null)
    await emulator('/voice', { userId: guest.id, channelId })
    await member(players.host.page, guest).waitFor({ timeout: TIMEOUT })
  })

  test('a page whose socket died catches up with what changed while it was down', async () => {
    const page = await players.guest.context.newPage()
    const socket = await cuttableSocket(page)
    await page.goto(roomUrl)
    await member(page, bystander).waitFor({ timeout: TIMEOUT })
    await live(page).getByText('Live').waitFor({ timeout: TIMEOUT })
    await socket.cut()
    await live(page).getByText('Reconnecting…').waitFor({ timeout: TIMEOUT })
    await emulator('/voice', { userId: bystander.id, channelId: null })
    await emulator('/voice', { userId: host.id, channelId, selfMute: false, selfVideo: true })
    // The page still shows the stale list while it is down...
    assert.equal(await member(page, bystander).count(), 1)
    socket.restore()
    await live(page).getByText('Live').waitFor({ timeout: 15_000 })
    await member(page, bystander).waitFor({ state: 'detached', timeout: TIMEOUT })
    await member(page, host).getByRole('img', { name: 'Camera on' }).waitFor({ timeout: TIMEOUT })
    assert.equal(await member(page, host).getByRole('img', { name: 'Muted' }).count(), 0)
    await page.close()
  })

  test('after Discord invalidates the gateway session, both pages converge on the truth', async () => {
    await emulator('/gateway/invalidate', { resumable: false })
    // Changes Discord makes while our gateway re-identifies reach us only through the new snapshot.
    await emulator('/voice', { userId: bystander.id, channelId })
    await emulator('/voice', { userId: host.id, channelId, selfVideo: false, selfDeaf: true })
    for (const p of [players.host.page, players.guest.page]) {
      await member(p, bystander).waitFor({ timeout: 20_000 })
      await member(p, host).getByRole('img', { name: 'Deafened' }).waitFor({ timeout: 20_000 })
      await member(p, guest).waitFor({ timeout: TIMEOUT })
    }
  })

  test('a page whose session is gone sends the player to sign in and back to the room', async () => {
    const { context } = players.guest
    const page = await context.newPage()
    const socket = await cuttableSocket(page)
    await page.goto(roomUrl)
    await live(page).getByText('Live').waitFor({ timeout: TIMEOUT })
    const cookies = await context.cookies()
    await context.clearCookies()
    await socket.cut()
    socket.restore()
    // The upgrade is now refused (401); the page notices and goes to sign in.
    await page.waitForURL((url) => url.href.startsWith(`${EMULATOR_URL}/oauth2/authorize`), {
      timeout: 30_000,
    })
    await page.getByRole('button', { name: `Authorize as ${guest.username}` }).click()
    await page.waitForURL(roomUrl, { timeout: TIMEOUT })
    await live(page).getByText('Live').waitFor({ timeout: TIMEOUT })
    await page.close()
    // The other guest pages keep the session they had.
    await context.addCookies(cookies.filter((c) => c.name === 'tv_session'))
  })

  test('typed errors reach the browser: an outsider is turned away, a forged link refused', async () => {
    players.outsider = await signIn(bystander)
    const { page } = players.outsider
    await page.goto(roomUrl)
    await page
      .getByRole('heading', { name: 'You are not in this room' })
      .waitFor({ timeout: TIMEOUT })
    const invite = await players.host.page.getByLabel('Invite link').inputValue()
    const forged = `${invite.slice(0, -4)}AAAA`
    await page.goto(forged)
    await page.getByText('This invite link is not valid.').waitFor({ timeout: TIMEOUT })
    assert.equal(await page.getByText('Something went wrong').count(), 0)
    // The error pages answered 4xx documents; nothing else may have failed.
    players.outsider.problems.length = 0
  })

  test('closing the room sends both pages home and deletes the channel', async () => {
    const { page } = players.host
    page.once('dialog', (d) => d.accept())
    await page.getByRole('button', { name: 'Close room' }).click()
    for (const p of [players.host.page, players.guest.page]) {
      await p.waitForURL(`${BASE_URL}/`, { timeout: TIMEOUT })
    }
    const state = await emulator('/state')
    assert.equal(
      state.channels.some((c) => c.id === channelId),
      false,
    )
    assert.equal(await voiceChannelOf(host.id), null)
    for (const p of Object.values(players)) {
      assert.deepEqual(
        p.problems.filter((x) => !x.includes('cdn.discordapp.com')),
        [],
      )
    }
  })
})
