import { type Emulator, startEmulator } from '@repo/discord-emulator'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  AppError,
  canManageGuild,
  createDiscordRest,
  type DiscordRest,
  fetchBotGuildIds,
  fetchGuildRoles,
  fetchMemberRoles,
  fetchUserGuilds,
  isAppError,
} from '../src/index'

let emu: Emulator
let rest: DiscordRest

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true })
})
beforeEach(() => {
  emu.control.reset()
  rest = createDiscordRest({ api: emu.restBase, token: emu.botToken })
})
afterAll(async () => {
  await emu?.close()
})

const userId = (name: string) =>
  emu.control.state().users.find((u) => u.username === name)?.id ?? ''
/** Morgan owns the default guild; urzas_apprentice is a plain member there. */
const owner = () => userId('morgan.le.fay')
const member = () => userId('urzas_apprentice')
/** Not a member of the default guild. */
const outsider = () => userId('llanowar.elf')
const byIdOrder = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : 1)

describe('guild reads for community servers (against the emulator)', () => {
  it("reads the user's own guilds with their guilds-scoped token, with owner and permissions", async () => {
    const other = emu.control.createGuild({
      name: 'Second Table',
      ownerId: member(),
      roles: [{ name: 'Mods', permissions: '32' }],
      members: [{ userId: owner(), roles: ['Mods'] }],
    })
    const noBot = emu.control.createGuild({ name: 'No Bot Here', ownerId: owner(), bot: false })
    const { accessToken } = emu.control.issueAccessToken({
      userId: owner(),
      scopes: ['identify', 'guilds'],
    })
    const guilds = await fetchUserGuilds(rest, accessToken)
    const byId = new Map(guilds.map((g) => [g.id, g]))
    // Discord lists them by id.
    expect([...byId.keys()]).toEqual([emu.guildId, other.id, noBot.id].sort(byIdOrder))
    expect(byId.get(emu.guildId)?.owner).toBe(true)
    expect(byId.get(other.id)?.owner).toBe(false)
    // Mods holds Manage Server (32): the user may manage the second guild.
    expect(canManageGuild(byId.get(other.id) ?? { owner: false, permissions: '0' })).toBe(true)

    const plain = emu.control.issueAccessToken({ userId: member(), scopes: ['identify', 'guilds'] })
    const theirs = new Map((await fetchUserGuilds(rest, plain.accessToken)).map((g) => [g.id, g]))
    // A plain member of the default guild: no Manage Server there.
    expect(canManageGuild(theirs.get(emu.guildId) ?? { owner: true, permissions: '32' })).toBe(
      false,
    )
    expect(theirs.get(other.id)?.owner).toBe(true)
  })

  it('answers SERVERS_SIGN_IN for a token without the guilds scope, and for a revoked one', async () => {
    const { accessToken } = emu.control.issueAccessToken({
      userId: owner(),
      scopes: ['identify', 'guilds.join'],
    })
    const error = await fetchUserGuilds(rest, accessToken).catch((e: unknown) => e)
    expect(isAppError(error, 'SERVERS_SIGN_IN')).toBe(true)

    const scoped = emu.control.issueAccessToken({
      userId: member(),
      scopes: ['identify', 'guilds'],
    })
    emu.control.deauthorize({ userId: member() })
    const revoked = await fetchUserGuilds(rest, scoped.accessToken).catch((e: unknown) => e)
    expect(isAppError(revoked, 'SERVERS_SIGN_IN')).toBe(true)
  })

  it('reads every page of a long guild list', async () => {
    // 205 guilds: two pages of Discord's 200.
    const ids: string[] = [emu.guildId]
    for (let i = 0; i < 204; i++) {
      ids.push(emu.control.createGuild({ name: `Guild ${i}`, ownerId: member(), bot: false }).id)
    }
    const { accessToken } = emu.control.issueAccessToken({ userId: member(), scopes: ['guilds'] })
    const guilds = await fetchUserGuilds(rest, accessToken)
    expect(guilds.map((g) => g.id)).toEqual(ids.sort(byIdOrder))
  })

  it("lists the bot's guilds, a member's roles (null for a non-member) and a guild's roles", async () => {
    const withBot = emu.control.createGuild({
      name: 'Bot Inside',
      ownerId: owner(),
      roles: [
        { name: 'Players', permissions: '0' },
        { name: 'Mods', permissions: '32' },
      ],
      members: [{ userId: member(), roles: ['Players'] }],
    })
    const withoutBot = emu.control.createGuild({
      name: 'Bot Outside',
      ownerId: owner(),
      bot: false,
    })
    const botGuilds = await fetchBotGuildIds(rest)
    expect(botGuilds.has(withBot.id)).toBe(true)
    expect(botGuilds.has(emu.guildId)).toBe(true)
    expect(botGuilds.has(withoutBot.id)).toBe(false)

    const players = withBot.roles.find((r) => r.name === 'Players')?.id
    expect(await fetchMemberRoles(rest, withBot.id, member())).toEqual([players])
    expect(await fetchMemberRoles(rest, withBot.id, outsider())).toBeNull()

    const roles = await fetchGuildRoles(rest, withBot.id)
    const names = roles.map((r) => r.name)
    // Highest first: the bot's managed role on top, @everyone last.
    expect(names.at(-1)).toBe('@everyone')
    expect(names.indexOf('Mods')).toBeLessThan(names.indexOf('Players'))
    expect(roles.find((r) => r.name === 'Mods')?.managed).toBe(false)
    expect(roles.some((r) => r.managed)).toBe(true)

    const missing = await fetchGuildRoles(rest, withoutBot.id).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(AppError)
  })
})
