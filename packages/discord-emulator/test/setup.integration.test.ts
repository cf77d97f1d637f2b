import { GatewayDispatchEvents as E, PermissionFlagsBits as P } from 'discord-api-types/v10'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_WORLD, type Emulator } from '../src/index.ts'
import { api, startTestEmulator, W } from './support/helpers.ts'
import { gatewayUrl, RawGateway } from './support/raw-gateway.ts'

/*
 * What a setup doctor asks Discord about a deployment, and the misconfigurations the emulator can
 * reproduce: unregistered redirect, privileged intent off, bad token, bot not in the guild, a
 * permission missing on the bot's role or on a category.
 */

const GATEWAY_GUILD_MEMBERS = 1 << 14
const GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
const CALLBACK = 'http://127.0.0.1:3000/auth/callback'

describe('setup: application, token, membership and permissions', () => {
  let emu: Emulator
  const sockets: RawGateway[] = []
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close()
    await emu.close()
  })
  const open = async (url?: string) => {
    const g = await RawGateway.open(url ?? gatewayUrl(emu.webUrl))
    sockets.push(g)
    return g
  }
  const authorize = (redirectUri: string) => {
    const q = new URLSearchParams({
      client_id: emu.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'identify',
      user_id: W.memberA,
    })
    return fetch(`${emu.webUrl}/oauth2/authorize?${q}`, { redirect: 'manual' })
  }

  it('GET /applications/@me describes the application with its intent flags and redirect URIs', async () => {
    emu = await startTestEmulator()
    const res = await api(emu, 'GET', '/applications/@me')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      id: emu.clientId,
      name: DEFAULT_WORLD.application.name,
      bot: { id: W.bot, bot: true },
      owner: { id: W.owner },
      flags: GATEWAY_GUILD_MEMBERS_LIMITED,
      flags_new: String(GATEWAY_GUILD_MEMBERS_LIMITED),
      redirect_uris: [],
      bot_public: true,
      bot_require_code_grant: false,
      team: null,
    })
    expect(res.body.verify_key).toMatch(/^[0-9a-f]{64}$/)
    // The older route answers the same object; a user token may not ask.
    expect((await api(emu, 'GET', '/oauth2/applications/@me')).body).toEqual(res.body)
    expect((await api(emu, 'GET', '/applications/@me', { token: 'nope' })).status).toBe(401)
    // An OAuth authorization shows the same application (docs topics/oauth2 "Get Current Authorization Information").
    const { accessToken } = emu.control.issueAccessToken({
      userId: W.memberA,
      scopes: ['identify'],
    })
    const info = await api(emu, 'GET', '/oauth2/@me', { auth: `Bearer ${accessToken}` })
    expect(info.body.application).toMatchObject({
      id: emu.clientId,
      verify_key: res.body.verify_key,
      flags: res.body.flags,
    })
    // 100 servers or more: the unlimited flag instead of the _LIMITED one.
    emu.control.setApplication({ approximateGuildCount: 150 })
    expect((await api(emu, 'GET', '/applications/@me')).body.flags).toBe(GATEWAY_GUILD_MEMBERS)
    emu.control.setApplication({ privilegedIntents: [] })
    expect((await api(emu, 'GET', '/applications/@me')).body.flags).toBe(0)
  })

  it('registered redirect URIs: listed by the API, and /oauth2/authorize refuses any other', async () => {
    emu = await startTestEmulator({
      world: {
        ...DEFAULT_WORLD,
        application: { ...DEFAULT_WORLD.application, redirectUris: [CALLBACK] },
      },
    })
    expect((await api(emu, 'GET', '/applications/@me')).body.redirect_uris).toEqual([CALLBACK])
    expect((await authorize(CALLBACK)).status).toBe(302)
    const refused = await authorize('http://127.0.0.1:3001/auth/callback')
    expect(refused.status).toBe(400)
    expect(await refused.text()).toContain('Invalid OAuth2 redirect_uri')
    // Changed at run time, as in the Developer Portal.
    const other = 'https://rooms.example.org/auth/callback'
    expect(emu.control.setApplication({ redirectUris: [other] }).redirectUris).toEqual([other])
    expect((await authorize(CALLBACK)).status).toBe(400)
    expect((await authorize(other)).status).toBe(302)
    const http = await fetch(`${emu.webUrl}/_emulator/application`, {
      method: 'POST',
      body: JSON.stringify({ redirectUris: ['not a url'] }),
    })
    expect(http.status).toBe(400)
  })

  it('privileged GUILD_MEMBERS switched off: IDENTIFY with it closes 4014, member list 50001', async () => {
    emu = await startTestEmulator()
    emu.control.setApplication({ privilegedIntents: [] })
    const g = await open()
    g.identify(emu.botToken, 131)
    expect((await g.closed).code).toBe(4014)
    const list = await api(emu, 'GET', `/guilds/${W.guild}/members?limit=10`)
    expect(list.body.code).toBe(50001)
    const ok = await open()
    ok.identify(emu.botToken, 129)
    await ok.next((f) => f.op === 0 && f.t === E.Ready)
  })

  it('a reset token: the old one gets 401 and 4004, live connections close 4004', async () => {
    emu = await startTestEmulator({ identifyIntervalMs: 0 })
    const old = emu.botToken
    const live = await open()
    live.identify(old)
    await live.next((f) => f.op === 0 && f.t === E.Ready)
    const { token } = emu.control.resetBotToken()
    expect(token).not.toBe(old)
    expect(emu.botToken).toBe(token)
    expect((await live.closed).code).toBe(4004)
    expect((await api(emu, 'GET', '/users/@me', { token: old })).status).toBe(401)
    expect((await api(emu, 'GET', '/users/@me', { token })).status).toBe(200)
    const again = await open()
    again.identify(old)
    expect((await again.closed).code).toBe(4004)
    // A reset of the emulator restores the seed's token.
    emu.control.reset()
    expect(emu.botToken).toBe(old)
  })

  it('bot not in the guild: no guild at READY, 10004 / 50001 from REST, then installed and removed', async () => {
    emu = await startTestEmulator({
      identifyIntervalMs: 0,
      world: { ...DEFAULT_WORLD, bot: { ...DEFAULT_WORLD.bot, inGuild: false } },
    })
    const g = await open()
    g.identify(emu.botToken)
    const ready = await g.next((f) => f.op === 0 && f.t === E.Ready)
    expect((ready.d as { guilds: unknown[] }).guilds).toEqual([])
    expect((await api(emu, 'GET', `/guilds/${W.guild}`)).body).toEqual({
      message: 'Unknown Guild',
      code: 10004,
    })
    for (const path of [
      `/guilds/${W.guild}/channels`,
      `/guilds/${W.guild}/roles`,
      `/guilds/${W.guild}/members/${W.memberA}`,
      `/channels/${W.lobby}`,
    ]) {
      const res = await api(emu, 'GET', path)
      expect([path, res.status, res.body.code]).toEqual([path, 403, 50001])
    }
    expect((await api(emu, 'GET', '/users/@me/guilds')).body).toEqual([])
    expect(emu.control.state().botInGuild).toBe(false)
    // Installed with an authorization link's permissions: GUILD_CREATE on the live session.
    const perms = P.ViewChannel | P.Connect | P.ManageChannels
    emu.control.setBotMembership({ member: true, permissions: perms.toString() })
    const created = await g.next((f) => f.op === 0 && f.t === E.GuildCreate)
    expect((created.d as { id: string }).id).toBe(W.guild)
    const role = (await api(emu, 'GET', `/guilds/${W.guild}/roles`)).body.find(
      (r: { id: string }) => r.id === W.botRole,
    )
    expect(role).toMatchObject({ managed: true, permissions: perms.toString() })
    // Kicked: GUILD_DELETE without `unavailable`, and the managed role is gone with it.
    emu.control.setBotMembership({ member: false })
    const deleted = await g.next((f) => f.op === 0 && f.t === E.GuildDelete)
    expect(deleted.d).toEqual({ id: W.guild })
    expect(emu.control.state().botInGuild).toBe(false)
    // Nothing more from a guild the bot is not in.
    const count = g.frames.length
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    await new Promise((r) => setTimeout(r, 100))
    expect(g.frames.slice(count).filter((f) => f.op === 0)).toEqual([])
  })

  it('a permission missing on the bot role or denied on the category: 50013, and events', async () => {
    emu = await startTestEmulator({ identifyIntervalMs: 0 })
    const g = await open()
    g.identify(emu.botToken)
    await g.next((f) => f.op === 0 && f.t === E.GuildCreate)
    const body = { name: 'Game 9', type: 2, parent_id: W.category }
    const bot = DEFAULT_WORLD.roles[1]!
    emu.control.setRolePermissions({
      roleId: W.botRole,
      permissions: (BigInt(bot.permissions) & ~P.ManageChannels).toString(),
    })
    await g.next((f) => f.op === 0 && f.t === E.GuildRoleUpdate)
    const denied = await api(emu, 'POST', `/guilds/${W.guild}/channels`, { body })
    expect([denied.status, denied.body.code]).toEqual([403, 50013])
    emu.control.setRolePermissions({ roleId: W.botRole, permissions: bot.permissions })
    expect((await api(emu, 'POST', `/guilds/${W.guild}/channels`, { body })).status).toBe(201)
    // The same permission denied to the bot on the category only.
    emu.control.setChannelOverwrite({
      channelId: W.category,
      id: W.bot,
      type: 1,
      deny: P.ManageChannels.toString(),
    })
    const update = await g.next(
      (f) => f.op === 0 && f.t === E.ChannelUpdate && (f.d as { id: string }).id === W.category,
    )
    expect((update.d as { permission_overwrites: unknown[] }).permission_overwrites).toContainEqual(
      { id: W.bot, type: 1, allow: '0', deny: P.ManageChannels.toString() },
    )
    const inCategory = await api(emu, 'POST', `/guilds/${W.guild}/channels`, { body })
    expect(inCategory.body.code).toBe(50013)
    const elsewhere = { name: 'Game 10', type: 2 }
    expect(
      (await api(emu, 'POST', `/guilds/${W.guild}/channels`, { body: elsewhere })).status,
    ).toBe(201)
    emu.control.deleteChannelOverwrite({ channelId: W.category, id: W.bot })
    expect((await api(emu, 'POST', `/guilds/${W.guild}/channels`, { body })).status).toBe(201)
  })
})
