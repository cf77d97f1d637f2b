import { API } from '@discordjs/core/http-only'
import { REST } from '@discordjs/rest'
import { GatewayDispatchEvents as E, PermissionFlagsBits as P } from 'discord-api-types/v10'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Emulator, GuildState } from '../src/index.ts'
import { api, startTestEmulator, W, waitFor } from './support/helpers.ts'
import { gatewayUrl, RawGateway } from './support/raw-gateway.ts'

const REDIRECT = 'http://localhost:3000/auth/callback'

describe('several guilds', () => {
  let emu: Emulator
  let gw: RawGateway | null = null
  beforeEach(async () => {
    emu = await startTestEmulator({ identifyIntervalMs: 0 })
  })
  afterEach(async () => {
    gw?.close()
    gw = null
    await emu.close()
  })
  const post = async (path: string, body?: unknown) => {
    const res = await fetch(`${emu.webUrl}/_emulator${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    // biome-ignore lint/suspicious/noExplicitAny: test helper; assertions narrow the shape
    return { status: res.status, body: (await res.json()) as any }
  }
  const connect = async () => {
    gw = await RawGateway.open(gatewayUrl(emu.webUrl))
    gw.identify(emu.botToken, 131)
    await gw.next((f) => f.op === 0 && f.t === E.Ready)
    return gw
  }
  const bearer = (userId: string, scopes = ['identify', 'guilds']) =>
    `Bearer ${emu.control.issueAccessToken({ userId, scopes }).accessToken}`
  /** A guild owned by Tamsin with a category, a voice channel, a Mods role and Priya as a Mod. */
  const secondGuild = async (): Promise<GuildState> => {
    const res = await post('/guilds', {
      name: 'Second Table',
      ownerId: W.memberA,
      roles: [{ name: 'Mods', permissions: String(P.ManageGuild) }],
      channels: [
        { name: 'Rooms', type: 4 },
        { name: 'Voice', type: 2, parent: 'Rooms', userLimit: 4 },
      ],
      members: [{ userId: W.memberB, roles: ['Mods'] }, W.memberC],
    })
    expect(res.status).toBe(200)
    return res.body as GuildState
  }
  const voiceOf = (g: GuildState) => g.channels.find((c) => c.type === 2)!.id

  it('POST /_emulator/guilds creates a guild, the bot gets GUILD_CREATE, state lists it', async () => {
    const g = await connect()
    const created = await secondGuild()
    expect(created).toMatchObject({
      name: 'Second Table',
      ownerId: W.memberA,
      botInGuild: true,
      available: true,
      shard: [0, 1],
    })
    expect(created.members.map((m) => m.userId).sort()).toEqual(
      [W.bot, W.memberA, W.memberB, W.memberC].sort(),
    )
    const mods = created.roles.find((r) => r.name === 'Mods')!
    expect(created.members.find((m) => m.userId === W.memberB)!.roles).toEqual([mods.id])
    const botRole = created.roles.find((r) => r.managed)!
    expect(BigInt(botRole.permissions) & P.ManageChannels).toBe(P.ManageChannels)
    const rooms = created.channels.find((c) => c.name === 'Rooms')!
    expect(created.channels.find((c) => c.name === 'Voice')).toMatchObject({
      parentId: rooms.id,
      userLimit: 4,
    })
    const gc = await g.next(
      (f) => f.op === 0 && f.t === E.GuildCreate && (f.d as { id: string }).id === created.id,
    )
    expect((gc.d as { channels: unknown[] }).channels).toHaveLength(2)
    const state = emu.control.state()
    expect(state.guilds.map((x) => x.id)).toEqual([W.guild, created.id])
    expect(state.guildId).toBe(W.guild)
    expect(state.channels.map((c) => c.name)).toEqual(['Game Rooms', 'general', 'Lobby', 'Table 2'])
    expect(emu.control.stats()).toMatchObject({ guilds: 2, recommendedShards: 1 })
    // A second guild with the same id, a bad body, an unknown owner.
    expect((await post('/guilds', { id: created.id, name: 'Dup', ownerId: W.owner })).status).toBe(
      400,
    )
    expect((await post('/guilds', { name: 'x', ownerId: W.owner })).status).toBe(400)
    expect((await post('/guilds', { name: 'Nobody', ownerId: '123456789012345678' })).status).toBe(
      404,
    )
  })

  it('members, roles and voice in any guild, each dispatch carrying its guild', async () => {
    const g = await connect()
    const second = await secondGuild()
    expect((await post('/members', { guildId: second.id, userId: W.nonMember })).body).toEqual({
      added: true,
    })
    const add = await g.next((f) => f.op === 0 && f.t === E.GuildMemberAdd)
    expect(add.d).toMatchObject({ guild_id: second.id, user: { id: W.nonMember } })
    expect((await post('/members', { guildId: second.id, userId: W.nonMember })).body.added).toBe(
      false,
    )
    const role = await post('/roles', { guildId: second.id, name: 'Hosts', permissions: '32' })
    const created = await g.next((f) => f.op === 0 && f.t === E.GuildRoleCreate)
    expect(created.d).toMatchObject({
      guild_id: second.id,
      role: { id: role.body.id, name: 'Hosts' },
    })
    await post('/members/roles', { guildId: second.id, userId: W.nonMember, roles: [role.body.id] })
    const upd = await g.next((f) => f.op === 0 && f.t === E.GuildMemberUpdate)
    expect(upd.d).toMatchObject({ guild_id: second.id, roles: [role.body.id] })
    // Voice: the channel names its guild; a person is in one voice channel at a time.
    emu.control.setVoice({ userId: W.memberB, channelId: W.lobby })
    emu.control.setVoice({ userId: W.memberB, channelId: voiceOf(second), selfVideo: true })
    await waitFor(() => g.dispatches(E.VoiceStateUpdate).length === 3)
    expect(
      g.dispatches(E.VoiceStateUpdate).map((f) => {
        const d = f.d as { guild_id: string; channel_id: string | null }
        return [d.guild_id, d.channel_id]
      }),
    ).toEqual([
      [W.guild, W.lobby],
      [W.guild, null],
      [second.id, voiceOf(second)],
    ])
    expect(emu.control.state().guilds[1]!.voiceStates).toEqual([
      expect.objectContaining({ userId: W.memberB, channelId: voiceOf(second), selfVideo: true }),
    ])
    expect(
      (await post('/voice', { userId: W.memberB, channelId: W.lobby, guildId: second.id })).status,
    ).toBe(404)
    expect(
      (await post('/voice', { userId: W.memberB, channelId: null, guildId: W.guild })).status,
    ).toBe(200)
    expect(emu.control.state().guilds[1]!.voiceStates).toHaveLength(1)
    await post('/voice', { userId: W.memberB, channelId: null, guildId: second.id })
    expect(emu.control.state().guilds[1]!.voiceStates).toEqual([])
    // Remove from the second guild only.
    expect((await post('/members/remove', { guildId: second.id, userId: W.memberC })).status).toBe(
      200,
    )
    const removed = await g.next((f) => f.op === 0 && f.t === E.GuildMemberRemove)
    expect(removed.d).toMatchObject({ guild_id: second.id, user: { id: W.memberC } })
    expect(emu.control.state().users.find((u) => u.id === W.memberC)!.member).toBe(true)
    expect(
      (await post('/members/remove', { guildId: '123456789012345678', userId: W.memberC })).status,
    ).toBe(404)
  })

  it('permission setup works in any guild: role permissions, overwrites, the bot’s membership', async () => {
    const g = await connect()
    const second = await secondGuild()
    const botRole = second.roles.find((r) => r.managed)!
    emu.control.setRolePermissions({ roleId: botRole.id, permissions: String(P.ViewChannel) })
    const roleUpdate = await g.next((f) => f.op === 0 && f.t === E.GuildRoleUpdate)
    expect(roleUpdate.d).toMatchObject({ guild_id: second.id, role: { id: botRole.id } })
    const created = await api(emu, 'POST', `/guilds/${second.id}/channels`, {
      body: { name: 'x', type: 2 },
    })
    expect(created.body.code).toBe(50013)
    emu.control.setChannelOverwrite({
      channelId: voiceOf(second),
      id: W.memberB,
      type: 1,
      deny: '1024',
    })
    const chUpdate = await g.next((f) => f.op === 0 && f.t === E.ChannelUpdate)
    expect(chUpdate.d).toMatchObject({ guild_id: second.id, id: voiceOf(second) })
    // The bot removed from the second guild: GUILD_DELETE {id}; its managed role is gone.
    expect((await post('/bot/membership', { guildId: second.id, member: false })).status).toBe(200)
    const del = await g.next((f) => f.op === 0 && f.t === E.GuildDelete)
    expect(del.d).toEqual({ id: second.id })
    expect(emu.control.state().guilds[1]!.roles.some((r) => r.managed)).toBe(false)
    expect((await api(emu, 'GET', `/guilds/${second.id}`)).body.code).toBe(10004)
    expect((await api(emu, 'GET', `/guilds/${second.id}/channels`)).body.code).toBe(50001)
    // Back, with the permissions of an install link: a new managed role.
    await post('/bot/membership', { guildId: second.id, member: true, permissions: '16' })
    await g.next(
      (f) =>
        f.op === 0 &&
        f.t === E.GuildCreate &&
        (f.d as { id: string }).id === second.id &&
        f.s! > del.s!,
    )
    const again = emu.control.state().guilds[1]!.roles.filter((r) => r.managed)
    expect(again).toEqual([expect.objectContaining({ permissions: '16' })])
    expect(again[0]!.id).not.toBe(botRole.id)
    // The default guild is untouched throughout.
    expect(emu.control.state().botInGuild).toBe(true)
  })

  it('GET /users/@me/guilds (guilds scope): the user’s guilds, owner, permissions, paging and counts', async () => {
    const second = await secondGuild()
    const third = emu.control.createGuild({
      name: 'Third Table',
      ownerId: W.owner,
      members: [W.memberB],
    })
    const rest = (userId: string) =>
      new API(
        new REST({ api: emu.restBase, authPrefix: 'Bearer' }).setToken(
          emu.control.issueAccessToken({ userId, scopes: ['guilds'] }).accessToken,
        ),
      )
    // Priya is in all three: a Mod (Manage Server) in the second, a plain member in the third.
    const priya = await rest(W.memberB).users.getGuilds()
    expect(priya.map((g) => g.id)).toEqual([W.guild, second.id, third.id])
    const perms = Object.fromEntries(priya.map((g) => [g.id, BigInt(g.permissions)]))
    expect(perms[second.id]! & P.ManageGuild).toBe(P.ManageGuild)
    expect(perms[third.id]! & P.ManageGuild).toBe(0n)
    expect(priya.every((g) => g.owner === false && typeof g.permissions === 'string')).toBe(true)
    // Tamsin owns the second (all permissions) and is not in the third.
    const tamsin = await rest(W.memberA).users.getGuilds({ with_counts: true })
    expect(tamsin.map((g) => [g.id, g.owner])).toEqual([
      [W.guild, false],
      [second.id, true],
    ])
    expect(BigInt(tamsin[1]!.permissions) & P.Administrator).toBe(P.Administrator)
    expect(tamsin[1]).toMatchObject({ approximate_member_count: 4, approximate_presence_count: 0 })
    const page = await rest(W.memberB).users.getGuilds({ after: W.guild, limit: 1 })
    expect(page.map((g) => g.id)).toEqual([second.id])
    const before = await rest(W.memberB).users.getGuilds({ before: third.id, limit: 1 })
    expect(before.map((g) => g.id)).toEqual([second.id])
    expect((await rest(W.memberB).users.getGuilds())[0]).not.toHaveProperty(
      'approximate_member_count',
    )
    const bad = await api(emu, 'GET', '/users/@me/guilds?limit=0', { auth: bearer(W.memberB) })
    expect(bad.status).toBe(400)
    expect(bad.body.code).toBe(50035)
    // Without the guilds scope: 401, as Discord answers.
    const noScope = await api(emu, 'GET', '/users/@me/guilds', {
      auth: bearer(W.memberB, ['identify']),
    })
    expect(noScope.status).toBe(401)
    // A bot token lists the bot's guilds.
    emu.control.setBotMembership({ guildId: third.id, member: false })
    const bot = await api(emu, 'GET', '/users/@me/guilds')
    expect(bot.body.map((g: { id: string }) => g.id)).toEqual([W.guild, second.id])
  })

  it('authorizing with the guilds scope grants GET /users/@me/guilds', async () => {
    const second = await secondGuild()
    const q = new URLSearchParams({
      client_id: emu.clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'identify guilds',
      user_id: W.memberB,
    })
    const res = await fetch(`${emu.webUrl}/oauth2/authorize?${q}`, { redirect: 'manual' })
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!
    const tokens = await new API(new REST({ api: emu.restBase })).oauth2.tokenExchange({
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
    })
    expect(tokens.scope.split(' ').sort()).toEqual(['guilds', 'identify'])
    const guilds = await api(emu, 'GET', '/users/@me/guilds', {
      auth: `Bearer ${tokens.access_token}`,
    })
    expect(guilds.body.map((g: { id: string }) => g.id)).toEqual([W.guild, second.id])
  })

  it('the install link installs the bot in the guild_id it names, for a member with Manage Server there', async () => {
    const second = emu.control.createGuild({
      name: 'No Bot Yet',
      ownerId: W.memberA,
      members: [W.memberB],
      bot: false,
    })
    const g = await connect()
    const install = (userId: string, guildId: string) =>
      fetch(
        `${emu.webUrl}/oauth2/authorize?${new URLSearchParams({
          client_id: emu.clientId,
          scope: 'bot',
          permissions: '16',
          guild_id: guildId,
          user_id: userId,
        })}`,
      )
    expect((await install(W.memberB, second.id)).status).toBe(403)
    expect((await install(W.memberA, '123456789012345678')).status).toBe(400)
    const ok = await install(W.memberA, second.id)
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('No Bot Yet')
    await g.next(
      (f) => f.op === 0 && f.t === E.GuildCreate && (f.d as { id: string }).id === second.id,
    )
    expect(emu.control.state().guilds[1]!.botInGuild).toBe(true)
    // Without guild_id the consent page offers every server.
    const picker = await (
      await fetch(
        `${emu.webUrl}/oauth2/authorize?client_id=${emu.clientId}&scope=bot&permissions=16`,
      )
    ).text()
    expect(picker).toContain('aria-label="Add to server"')
    expect(picker).toContain(`value="${second.id}"`)
  })

  it('an outage over HTTP; the tiny Discord client works in any guild', async () => {
    const second = await secondGuild()
    expect(
      (await post('/guilds/availability', { guildId: second.id, available: false })).status,
    ).toBe(200)
    expect(emu.control.state().guilds[1]!.available).toBe(false)
    const panel = await (await fetch(`${emu.webUrl}/_emulator`)).text()
    expect(panel).toContain('Second Table')
    expect(panel).toContain('End outage')
    expect(
      (await post('/guilds/availability', { guildId: '123456789012345678', available: true }))
        .status,
    ).toBe(404)
    await post('/guilds/availability', { guildId: second.id, available: true })
    const page = `${emu.webUrl}/channels/${second.id}/${voiceOf(second)}`
    const cookie = `emu_user=${W.memberC}`
    expect((await fetch(page, { headers: { cookie } })).status).toBe(200)
    const join = await fetch(`${page}/join`, {
      method: 'POST',
      headers: { cookie },
      redirect: 'manual',
    })
    expect(join.status).toBe(303)
    expect(emu.control.state().guilds[1]!.voiceStates.map((v) => v.userId)).toEqual([W.memberC])
    expect((await fetch(`${emu.webUrl}/channels/${W.guild}/${voiceOf(second)}`)).status).toBe(404)
  })

  it('gateway controls: sharding over HTTP and closing one shard’s connections', async () => {
    const res = await post('/gateway/sharding', { guildsPerShard: 1, maxConcurrency: 2 })
    expect(res.body).toMatchObject({ guildsPerShard: 1, maxConcurrency: 2, recommendedShards: 1 })
    expect((await post('/gateway/sharding', { maxConcurrency: 0 })).status).toBe(400)
    const a = await RawGateway.open(gatewayUrl(emu.webUrl))
    a.identify(emu.botToken, 131, { shard: [0, 2] })
    const b = await RawGateway.open(gatewayUrl(emu.webUrl))
    b.identify(emu.botToken, 131, { shard: [1, 2] })
    await a.next((f) => f.op === 0 && f.t === E.Ready)
    await b.next((f) => f.op === 0 && f.t === E.Ready)
    await post('/gateway/close', { code: 4000, shard: 1 })
    expect((await b.closed).code).toBe(4000)
    expect(a.ws.readyState).toBe(a.ws.OPEN)
    a.close()
    emu.control.reset()
    expect(emu.control.state().sharding).toEqual({
      guildsPerShard: 2500,
      maxConcurrency: 1,
      recommendedShards: 1,
    })
  })
})
