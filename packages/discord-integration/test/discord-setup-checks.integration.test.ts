import { DEFAULT_WORLD, type Emulator, startEmulator, type WorldSeed } from '@repo/discord-emulator'
import { type APIChannel, PermissionFlagsBits as P, Routes } from 'discord-api-types/v10'
import { afterEach, describe, expect, it } from 'vitest'
import {
  checkDiscordSetup,
  createDiscordRest,
  type DiscordSetupReport,
  type PermissionName,
} from '../src/index'

/*
 * The Discord part of the setup doctor against the emulator, whose control API reproduces what a
 * person sets up in the Developer Portal and in the server's settings. The app's own inputs (its
 * permissions, intents, category names) are the web app's; these tests hand in their own.
 */

const REDIRECT = 'http://127.0.0.1:3000/auth/callback'
const REQUIRED: PermissionName[] = ['ViewChannel', 'ManageChannels', 'Stream', 'MoveMembers']
const PREFIX = 'Rooms of the test'

let emu: Emulator | undefined
afterEach(async () => {
  await emu?.close()
  emu = undefined
})

async function start(world: WorldSeed = DEFAULT_WORLD): Promise<Emulator> {
  emu = await startEmulator({ port: 0, quiet: true, world })
  emu.control.setApplication({ redirectUris: [REDIRECT] })
  return emu
}

function check(e: Emulator, overrides: { token?: string } = {}): Promise<DiscordSetupReport> {
  const rest = createDiscordRest({ api: e.restBase, token: overrides.token ?? e.botToken })
  return checkDiscordSetup({
    rest,
    apiUrl: e.restBase,
    webUrl: e.webUrl,
    clientId: e.clientId,
    clientSecret: e.clientSecret,
    guildId: e.guildId,
    redirectUri: REDIRECT,
    requiredPermissions: REQUIRED,
    guildMembersIntent: false,
    categoryPrefix: PREFIX,
  })
}

const statuses = (report: DiscordSetupReport) =>
  Object.fromEntries(report.checks.map((c) => [c.id, c.status]))
const byId = (report: DiscordSetupReport, id: string) => report.checks.find((c) => c.id === id)

/** A room category as the app creates it: @everyone kept out, the bot let in. */
async function createRoomCategory(e: Emulator): Promise<string> {
  const rest = createDiscordRest({ api: e.restBase, token: e.botToken })
  const channel = (await rest.post(Routes.guildChannels(e.guildId), {
    body: {
      name: `${PREFIX} 1`,
      type: 4,
      permission_overwrites: [
        { id: e.guildId, type: 0, deny: String(P.ViewChannel | P.Connect) },
        { id: e.botUserId, type: 1, allow: String(P.ViewChannel | P.Connect | P.MoveMembers) },
      ],
    },
  })) as APIChannel
  return channel.id
}

describe('the Discord setup checks', () => {
  it('all hold in a world set up as the guide says, and link the install with the exact integer', async () => {
    const e = await start()
    const report = await check(e)
    expect(report.checks.every((c) => c.status === 'ok')).toBe(true)
    expect(report.missingPermissions).toEqual([])
    expect(report.permissions).toBe(
      String(P.ViewChannel | P.ManageChannels | P.Stream | P.MoveMembers),
    )
    expect(report.installUrl).toBe(
      `${e.webUrl}/oauth2/authorize?client_id=${e.clientId}&scope=bot&permissions=${report.permissions}&guild_id=${e.guildId}`,
    )
  })

  it('count what @everyone grants: only what neither it nor the bot role has is missing', async () => {
    const strip = (bits: string, ...names: PermissionName[]) =>
      names.reduce((all, name) => all & ~P[name], BigInt(bits)).toString()
    const world = structuredClone(DEFAULT_WORLD)
    // The bot's role lacks Video (Stream) in the default world; @everyone grants it there.
    world.roles = world.roles.map((role, i) =>
      i === 0
        ? { ...role, permissions: strip(role.permissions, 'Stream') }
        : { ...role, permissions: strip(role.permissions, 'ManageChannels', 'Stream') },
    )
    const report = await check(await start(world))
    expect(report.missingPermissions).toEqual(['ManageChannels', 'Stream'])
    expect(byId(report, 'guild-permissions')).toMatchObject({
      status: 'fail',
      message: 'the bot lacks Manage Channels, Video in the server',
    })
    expect(byId(report, 'guild-permissions')?.fix).toContain('the role "Table Voice"')
  })

  it('say a room category takes a permission away exactly when Discord refuses the action', async () => {
    const e = await start()
    const category = await createRoomCategory(e)
    const botRole = DEFAULT_WORLD.bot.roles[0]!
    e.control.setChannelOverwrite({
      channelId: category,
      id: botRole,
      type: 0,
      deny: String(P.ManageChannels),
    })
    const report = await check(e)
    expect(byId(report, 'category-permissions')).toMatchObject({
      status: 'fail',
      message: `"${PREFIX} 1" takes Manage Channels away from the bot (denied by the overwrite for the role "Table Voice")`,
    })
    expect(report.missingPermissions).toEqual(['ManageChannels'])
    expect(byId(report, 'guild-permissions')?.status).toBe('ok')

    // Discord agrees: the bot cannot create a room channel there, and can once the deny is gone.
    const rest = createDiscordRest({ api: e.restBase, token: e.botToken })
    const create = () =>
      rest.post(Routes.guildChannels(e.guildId), {
        body: { name: 'room', type: 2, parent_id: category },
      })
    await expect(create()).rejects.toMatchObject({ code: 50013 })
    e.control.deleteChannelOverwrite({ channelId: category, id: botRole })
    await expect(create()).resolves.toBeTruthy()
    expect(statuses(await check(e))['category-permissions']).toBe('ok')
  })

  it('let Administrator hold everything, overwrites or not', async () => {
    const e = await start()
    const category = await createRoomCategory(e)
    e.control.setRolePermissions({
      roleId: DEFAULT_WORLD.bot.roles[0]!,
      permissions: String(P.Administrator),
    })
    e.control.setChannelOverwrite({
      channelId: category,
      id: e.botUserId,
      type: 1,
      deny: String(P.MoveMembers),
    })
    const report = await check(e)
    expect(report.checks.every((c) => c.status === 'ok')).toBe(true)
  })

  it('skip what needs a valid token when Discord refuses it, and say Discord refused it', async () => {
    const e = await start()
    const old = e.botToken
    e.control.resetBotToken()
    const report = await check(e, { token: old })
    expect(statuses(report)).toEqual({
      'bot-token': 'fail',
      application: 'skipped',
      'client-secret': 'ok',
      redirect: 'skipped',
      intents: 'skipped',
      guild: 'skipped',
      'guild-permissions': 'skipped',
      'category-permissions': 'skipped',
    })
    expect(byId(report, 'bot-token')?.message).toContain('401')
  })

  it('call a failure to reach Discord an error, not a misconfiguration', async () => {
    const e = await start()
    const api = e.restBase
    await e.close()
    emu = undefined
    const rest = createDiscordRest({ api, token: 'x'.repeat(40), timeout: 2000 })
    const report = await checkDiscordSetup({
      rest,
      apiUrl: api,
      webUrl: 'https://discord.com',
      clientId: '842468740817096705',
      clientSecret: 'secret-secret',
      guildId: '842106352435597312',
      redirectUri: REDIRECT,
      requiredPermissions: REQUIRED,
      guildMembersIntent: false,
      categoryPrefix: PREFIX,
    })
    expect(byId(report, 'bot-token')).toMatchObject({ status: 'error' })
    expect(byId(report, 'bot-token')?.message).toMatch(/ECONNREFUSED/)
    expect(byId(report, 'client-secret')?.status).toBe('error')
  })
})
