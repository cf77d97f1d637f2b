// Community servers in Chromium (ROOMS_COMMUNITY=1, as scripts/e2e.sh runs the server): the
// create-room form's "Server" picker lists exactly the player's servers that have the bot and
// rooms enabled; a manager opens and saves a server's room settings; a non-manager gets 403.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE_URL, emulator, launchBrowser } from './browser.mjs'
import { newPlayer, personFor, shows, TIMEOUT } from './table-helpers.mjs'

let browser
before(async () => {
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
})

const suffix = () => Math.random().toString(36).slice(2, 6)

/** The visible texts of the "Server" select's options. */
async function pickerOptions(page) {
  const picker = page.getByLabel('Server', { exact: true })
  await picker.waitFor({ timeout: TIMEOUT })
  return picker.locator('option').allTextContents()
}

test('sign-in asks Discord for the guilds scope', async () => {
  const login = await fetch(`${BASE_URL}/auth/login?returnTo=%2F`, { redirect: 'manual' })
  const scopes = new URL(login.headers.get('location')).searchParams.get('scope').split(' ')
  assert.deepEqual(scopes.sort(), ['guilds', 'guilds.join', 'identify'])
})

test('the picker lists the shared servers with rooms on; a manager saves settings; others get 403', async () => {
  const s = suffix()
  const owner = await newPlayer(`den.owner.${s}`, 'Den Owner')
  const other = await newPlayer(`corner.owner.${s}`, 'Corner Owner')
  const player = await newPlayer(`picker.player.${s}`, 'Picker Player')
  const den = await emulator('/guilds', {
    name: `Dragon Den ${s}`,
    ownerId: owner.id,
    roles: [{ name: 'Regulars' }],
    members: [player.id],
  })
  const corner = await emulator('/guilds', {
    name: `Quiet Corner ${s}`,
    ownerId: other.id,
    members: [player.id],
  })
  const noBot = await emulator('/guilds', {
    name: `No Bot ${s}`,
    ownerId: other.id,
    bot: false,
    members: [player.id],
  })

  const p = await personFor(browser, player)
  await p.page.goto(BASE_URL, { waitUntil: 'networkidle' })
  const offered = await pickerOptions(p.page)
  assert.deepEqual(offered, ['Table Voice’s own server', den.name, corner.name])
  assert.ok(!offered.includes(noBot.name))
  // A plain member manages nothing: no settings links.
  assert.equal(await p.page.getByRole('link', { name: /Room settings of/ }).count(), 0)

  // A room in a picked community server.
  await p.page.getByLabel('Server', { exact: true }).selectOption({ label: den.name })
  await p.page.getByLabel('Room name').fill(`Den night ${s}`)
  await p.page.getByRole('button', { name: 'Create room' }).click()
  await p.page.waitForURL(/\/rooms\/[A-Za-z0-9_-]+$/, { timeout: TIMEOUT })
  await shows(p.page.getByRole('heading', { level: 1 }), `Den night ${s}`)

  // The player cannot open the Den's settings: 403 and a page that says so.
  const refused = await p.page.goto(`${BASE_URL}/servers/${den.id}/settings`)
  assert.equal(refused.status(), 403)
  await shows(p.page.getByRole('heading', { level: 1 }), 'You cannot change this server’s settings')
  assert.equal(await p.page.getByRole('button', { name: 'Save settings' }).count(), 0)

  // The owner finds the settings from the home page, turns rooms off and requires a role.
  const o = await personFor(browser, owner)
  await o.page.goto(BASE_URL, { waitUntil: 'networkidle' })
  await o.page.getByRole('link', { name: `Room settings of ${den.name}` }).click()
  await o.page.waitForURL(`${BASE_URL}/servers/${den.id}/settings`, { timeout: TIMEOUT })
  await shows(o.page.getByRole('heading', { level: 1 }), den.name)
  const enabled = o.page.getByRole('checkbox', { name: 'Rooms enabled' })
  assert.equal(await enabled.isChecked(), true)
  assert.equal(await o.page.getByLabel('Category name').inputValue(), 'Table Voice rooms')
  assert.equal(await o.page.getByLabel('Most open rooms').inputValue(), '50')
  const role = o.page.getByLabel('Role required to create rooms')
  assert.deepEqual(await role.locator('option').allTextContents(), ['No role required', 'Regulars'])
  await enabled.uncheck()
  await o.page.getByLabel('Category name').fill('  Dragon   tables ')
  await o.page.getByLabel('Most open rooms').fill('12')
  await role.selectOption({ label: 'Regulars' })
  await o.page.getByRole('button', { name: 'Save settings' }).click()
  await shows(o.page.getByRole('status'), 'Settings saved.')
  // The fields show the settings as stored (the name normalised).
  assert.equal(await o.page.getByLabel('Category name').inputValue(), 'Dragon tables')

  // Saved: a reload shows them.
  await o.page.reload({ waitUntil: 'networkidle' })
  assert.equal(await o.page.getByRole('checkbox', { name: 'Rooms enabled' }).isChecked(), false)
  assert.equal(await o.page.getByLabel('Category name').inputValue(), 'Dragon tables')
  assert.equal(await o.page.getByLabel('Most open rooms').inputValue(), '12')
  assert.equal(
    await o.page.getByLabel('Role required to create rooms').inputValue(),
    den.roles.find((r) => r.name === 'Regulars').id,
  )

  // The player's picker no longer offers the Den.
  await p.page.goto(BASE_URL, { waitUntil: 'networkidle' })
  assert.deepEqual(await pickerOptions(p.page), ['Table Voice’s own server', corner.name])

  assert.deepEqual(
    p.problems.filter((line) => !line.startsWith('403 ')),
    [],
  )
  assert.deepEqual(o.problems, [])
  await p.context.close()
  await o.context.close()
})
