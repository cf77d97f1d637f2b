import { waitUntil } from '@repo/process-harness'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { clusterWorld, type WebNode } from './cluster-world'

/**
 * Two players in Chromium, each on another web node (the production build, real processes),
 * see each other's voice changes before and after the node that leads the gateway is killed.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const TIMEOUT = 10_000
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Opens the room page on `node` in a fresh context signed in as `userId`; returns the page and its problems. */
async function openRoom(
  browser: Browser,
  node: WebNode,
  roomId: string,
  cookie: string,
  secrets: readonly string[],
): Promise<{ page: Page; problems: string[] }> {
  const [name, ...value] = cookie.split('=')
  const context = await browser.newContext()
  cleanups.push(() => context.close())
  await context.addCookies([{ name: name as string, value: value.join('='), url: node.origin }])
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('response', async (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`)
    const body = await response.text().catch(() => '')
    for (const secret of secrets)
      if (body.includes(secret)) problems.push(`a secret in ${response.url()}`)
  })
  await page.goto(`${node.origin}/rooms/${roomId}`)
  await page.getByTestId('live-indicator').getByText('Live').waitFor({ timeout: TIMEOUT })
  return { page, problems }
}

const member = (page: Page, userId: string) => page.getByTestId(`voice-member-${userId}`)

describe('players on two web nodes, in Chromium', () => {
  it("see each other's voice changes through a kill -9 of the node leading the gateway", async () => {
    const w = await clusterWorld({ rooms: 1, users: 0, guests: 1 })
    cleanups.push(() => w.close())
    const web1 = await w.startNode('web-1')
    await waitUntil(async () => (await web1.health())?.gateway.isLeader, 15_000, 'web-1 to lead')
    const [web2, web3] = await Promise.all([w.startNode('web-2'), w.startNode('web-3')])
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    })
    cleanups.push(() => browser.close())
    const room = w.rooms[0]
    const guest = room?.guests[0]
    if (!room || !guest) throw new Error('no seeded room')
    const a = await openRoom(
      browser,
      web2 as WebNode,
      room.roomId,
      await w.cookie(room.ownerId),
      w.secrets,
    )
    const b = await openRoom(
      browser,
      web3 as WebNode,
      room.roomId,
      await w.cookie(guest.userId),
      w.secrets,
    )
    const pages = [a.page, b.page]

    // Both join the room's voice channel; each sees the other (and themself).
    w.emu.control.setVoice({ userId: room.ownerId, channelId: room.channelId })
    w.emu.control.setVoice({ userId: guest.userId, channelId: room.channelId })
    for (const page of pages) {
      await member(page, room.ownerId).waitFor({ timeout: TIMEOUT })
      await member(page, guest.userId).waitFor({ timeout: TIMEOUT })
    }
    w.emu.control.setVoice({ userId: guest.userId, channelId: room.channelId, selfMute: true })
    for (const page of pages) {
      await member(page, guest.userId)
        .getByRole('img', { name: 'Muted' })
        .waitFor({ timeout: TIMEOUT })
    }

    // The leader dies; another node resumes the gateway session.
    const resumes = w.emu.control.stats().resumes
    await web1.process.kill()
    w.emu.control.setVoice({ userId: room.ownerId, channelId: room.channelId, selfMute: true })
    await waitUntil(() => w.emu.control.stats().resumes > resumes, 10_000, 'a RESUME')
    for (const page of pages) {
      await member(page, room.ownerId)
        .getByRole('img', { name: 'Muted' })
        .waitFor({ timeout: TIMEOUT })
    }
    w.emu.control.setVoice({ userId: guest.userId, channelId: null })
    for (const page of pages) {
      await member(page, guest.userId).waitFor({ state: 'detached', timeout: TIMEOUT })
      await page.getByTestId('live-indicator').getByText('Live').waitFor({ timeout: TIMEOUT })
    }
    expect(await member(a.page, room.ownerId).getByRole('img', { name: 'Muted' }).count()).toBe(1)
    expect([...a.problems, ...b.problems]).toEqual([])
  }, 90_000)
})
