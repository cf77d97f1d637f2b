import { GatewayDispatchEvents as E, PermissionFlagsBits as P } from 'discord-api-types/v10'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import { api, startTestEmulator, W, waitFor } from './support/helpers.ts'
import { gatewayUrl, RawGateway } from './support/raw-gateway.ts'

const VIEW_CONNECT = (P.ViewChannel | P.Connect).toString()

describe('REST: guild, channels, overwrites, invites', () => {
  let emu: Emulator
  let gw: RawGateway
  beforeEach(async () => {
    emu = await startTestEmulator({ rateLimits: { route: { limit: 100, windowMs: 1000 } } })
    gw = await RawGateway.open(gatewayUrl(emu.webUrl))
    gw.identify(emu.botToken, 131)
    await gw.next((f) => f.op === 0 && f.t === E.GuildCreate)
  })
  afterEach(async () => {
    gw.close()
    await emu.close()
  })

  it('answers unknown routes 404, missing auth 401, wrong method 405, Bearer on bot routes 401', async () => {
    expect(await api(emu, 'GET', '/nope')).toMatchObject({
      status: 404,
      body: { message: '404: Not Found', code: 0 },
    })
    expect(await api(emu, 'GET', `/guilds/${W.guild}`, { token: null })).toMatchObject({
      status: 401,
      body: { message: '401: Unauthorized', code: 0 },
    })
    expect((await api(emu, 'GET', `/guilds/${W.guild}`, { token: 'wrong' })).status).toBe(401)
    expect((await api(emu, 'POST', `/guilds/${W.guild}`)).status).toBe(405)
    const { accessToken } = emu.control.issueAccessToken({
      userId: W.memberA,
      scopes: ['identify'],
    })
    expect(
      (await api(emu, 'GET', `/guilds/${W.guild}`, { auth: `Bearer ${accessToken}` })).status,
    ).toBe(401)
  })

  it('GET /gateway/bot gives a loopback ws URL without query string and the start limit', async () => {
    const { body } = await api(emu, 'GET', '/gateway/bot')
    expect(body.url).toBe(emu.webUrl.replace('http', 'ws'))
    expect(body.shards).toBe(1)
    expect(body.session_start_limit).toMatchObject({
      total: 1000,
      remaining: 999,
      max_concurrency: 1,
    })
    expect((await api(emu, 'GET', '/gateway', { token: null })).body.url).toBe(body.url)
  })

  it('GET /users/@me, /users/{id} and the guild', async () => {
    expect((await api(emu, 'GET', '/users/@me')).body).toMatchObject({ id: W.bot, bot: true })
    expect((await api(emu, 'GET', `/users/${W.memberA}`)).body.id).toBe(W.memberA)
    expect((await api(emu, 'GET', '/applications/@me')).body).toMatchObject({
      id: W.bot,
      bot: { id: W.bot },
      flags: 1 << 15,
    })
    expect((await api(emu, 'GET', '/users/123456789012345678')).body.code).toBe(10013)
    const guild = await api(emu, 'GET', `/guilds/${W.guild}?with_counts=true`)
    expect(guild.body).toMatchObject({
      id: W.guild,
      owner_id: W.owner,
      approximate_member_count: 5,
    })
    expect((await api(emu, 'GET', '/guilds/123456789012345678')).body).toEqual({
      message: 'Unknown Guild',
      code: 10004,
    })
    const channels = await api(emu, 'GET', `/guilds/${W.guild}/channels`)
    expect(channels.body.map((c: { id: string }) => c.id)).toEqual(
      expect.arrayContaining([W.lobby, W.table2, W.text, W.category]),
    )
  })

  it('creates a private voice channel (the room recipe) and fires CHANNEL_CREATE', async () => {
    const res = await api(emu, 'POST', `/guilds/${W.guild}/channels`, {
      body: {
        name: 'Game 1',
        type: 2,
        user_limit: 4,
        parent_id: W.category,
        permission_overwrites: [
          { id: W.guild, type: 0, deny: VIEW_CONNECT },
          { id: W.memberA, type: 1, allow: (P.ViewChannel | P.Connect | P.Speak).toString() },
          { id: W.bot, type: 1, allow: (P.ViewChannel | P.Connect | P.MoveMembers).toString() },
        ],
      },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      type: 2,
      user_limit: 4,
      parent_id: W.category,
      guild_id: W.guild,
      name: 'Game 1',
    })
    expect(res.body.permission_overwrites[0]).toEqual({
      id: W.guild,
      type: 0,
      allow: '0',
      deny: VIEW_CONNECT,
    })
    const ev = await gw.next((f) => f.op === 0 && f.t === E.ChannelCreate)
    expect((ev.d as { id: string }).id).toBe(res.body.id)
    const category = await api(emu, 'POST', `/guilds/${W.guild}/channels`, {
      body: { name: 'Rooms', type: 4 },
    })
    expect(category.body).toMatchObject({ type: 4, parent_id: null })
  })

  it('validates bodies with a 50035 errors tree', async () => {
    const missing = await api(emu, 'POST', `/guilds/${W.guild}/channels`, { body: { type: 2 } })
    expect(missing.status).toBe(400)
    expect(missing.body).toMatchObject({ code: 50035, message: 'Invalid Form Body' })
    expect(missing.body.errors.name._errors[0].code).toBe('BASE_TYPE_REQUIRED')
    const bad = await api(emu, 'POST', `/guilds/${W.guild}/channels`, {
      body: {
        name: '',
        type: 5,
        user_limit: 100,
        permission_overwrites: [{ id: W.guild, type: 0, allow: 'lots' }],
      },
    })
    expect(bad.body.errors.name._errors[0].code).toBe('BASE_TYPE_BAD_LENGTH')
    expect(bad.body.errors.type._errors[0].code).toBe('BASE_TYPE_CHOICES')
    expect(bad.body.errors.user_limit._errors[0].code).toBe('NUMBER_TYPE_MAX')
    expect(bad.body.errors.permission_overwrites['0'].allow._errors[0].code).toBeDefined()
    const parent = await api(emu, 'POST', `/guilds/${W.guild}/channels`, {
      body: { name: 'x', type: 2, parent_id: W.lobby },
    })
    expect(parent.body.errors.parent_id._errors[0].code).toBe('CHANNEL_PARENT_INVALID')
    const json = await api(emu, 'POST', `/guilds/${W.guild}/channels`, { body: '{"name":' })
    expect(json.body).toEqual({ message: 'The request body contains invalid JSON.', code: 50109 })
  })

  it('refuses overwrites granting permissions the bot does not hold (50013)', async () => {
    const admin = await api(emu, 'POST', `/guilds/${W.guild}/channels`, {
      body: {
        name: 'x',
        type: 2,
        permission_overwrites: [{ id: W.memberA, type: 1, allow: P.Administrator.toString() }],
      },
    })
    expect(admin.body).toEqual({ message: 'Missing Permissions', code: 50013 })
    const roles = await api(emu, 'POST', `/guilds/${W.guild}/channels`, {
      body: {
        name: 'x',
        type: 2,
        permission_overwrites: [{ id: W.memberA, type: 1, allow: P.ManageRoles.toString() }],
      },
    })
    expect(roles.status).toBe(403)
  })

  it('enforces the configurable per-guild (30013) and per-category limits', async () => {
    await emu.close()
    emu = await startTestEmulator({ limits: { channelsPerGuild: 6, channelsPerCategory: 3 } })
    const create = (parent?: string) =>
      api(emu, 'POST', `/guilds/${W.guild}/channels`, {
        body: { name: 'r', type: 2, ...(parent ? { parent_id: parent } : {}) },
      })
    expect((await create(W.category)).status).toBe(201)
    const full = await create(W.category)
    expect(full.body.errors.parent_id._errors[0].code).toBe('CHANNEL_PARENT_MAX_CHANNELS')
    expect((await create()).status).toBe(201)
    expect((await create()).body).toEqual({
      message: 'Maximum number of guild channels reached (6)',
      code: 30013,
    })
  })

  it('edits a channel (CHANNEL_UPDATE) and deletes it, disconnecting occupants first', async () => {
    const created = await api(emu, 'POST', `/guilds/${W.guild}/channels`, {
      body: { name: 'Game', type: 2 },
    })
    const id = created.body.id as string
    const edited = await api(emu, 'PATCH', `/channels/${id}`, {
      body: { name: 'Game 2', user_limit: 3 },
    })
    expect(edited.body).toMatchObject({ name: 'Game 2', user_limit: 3 })
    await gw.next((f) => f.op === 0 && f.t === E.ChannelUpdate)
    emu.control.setVoice({ userId: W.memberA, channelId: id })
    emu.control.setVoice({ userId: W.memberB, channelId: id })
    const del = await api(emu, 'DELETE', `/channels/${id}`)
    expect(del.body.id).toBe(id)
    await gw.next((f) => f.op === 0 && f.t === E.ChannelDelete)
    const tail = gw.frames.filter((f) => f.op === 0).slice(-3)
    expect(
      tail.map((f) => [
        f.t,
        (f.d as { channel_id?: string | null }).channel_id === undefined
          ? 'x'
          : (f.d as { channel_id: string | null }).channel_id,
      ]),
    ).toEqual([
      [E.VoiceStateUpdate, null],
      [E.VoiceStateUpdate, null],
      [E.ChannelDelete, 'x'],
    ])
    expect(emu.control.state().voiceStates).toEqual([])
    expect((await api(emu, 'DELETE', `/channels/${id}`)).body).toEqual({
      message: 'Unknown Channel',
      code: 10003,
    })
  })

  it('puts and deletes permission overwrites, and loses access when it hides the channel from itself', async () => {
    const put = await api(emu, 'PUT', `/channels/${W.table2}/permissions/${W.memberA}`, {
      body: { type: 1, allow: VIEW_CONNECT, deny: '0' },
    })
    expect(put.status).toBe(204)
    const upd = await gw.next((f) => f.op === 0 && f.t === E.ChannelUpdate)
    expect((upd.d as { permission_overwrites: unknown[] }).permission_overwrites).toHaveLength(1)
    expect(
      (await api(emu, 'DELETE', `/channels/${W.table2}/permissions/${W.memberA}`)).status,
    ).toBe(204)
    expect(emu.control.state().channels.find((c) => c.id === W.table2)).toBeDefined()
    const unknownRole = await api(
      emu,
      'PUT',
      `/channels/${W.table2}/permissions/123456789012345678`,
      { body: { type: 0 } },
    )
    expect(unknownRole.body.code).toBe(10011)
    // Denying @everyone VIEW_CHANNEL with no overwrite for the bot hides the channel from the bot.
    await api(emu, 'PUT', `/channels/${W.table2}/permissions/${W.guild}`, {
      body: { type: 0, deny: VIEW_CONNECT },
    })
    expect((await api(emu, 'GET', `/channels/${W.table2}`)).body).toEqual({
      message: 'Missing Access',
      code: 50001,
    })
  })

  it('creates invites with max_age/max_uses/unique and validates them', async () => {
    const a = await api(emu, 'POST', `/channels/${W.lobby}/invites`, {
      body: { max_age: 3600, max_uses: 1 },
    })
    expect(a.status).toBe(200)
    expect(a.body).toMatchObject({
      max_age: 3600,
      max_uses: 1,
      uses: 0,
      channel: { id: W.lobby },
      guild: { id: W.guild },
    })
    expect(Date.parse(a.body.expires_at) - Date.parse(a.body.created_at)).toBe(3_600_000)
    const again = await api(emu, 'POST', `/channels/${W.lobby}/invites`, {
      body: { max_age: 3600, max_uses: 1 },
    })
    expect(again.body.code).toBe(a.body.code)
    const unique = await api(emu, 'POST', `/channels/${W.lobby}/invites`, {
      body: { max_age: 3600, max_uses: 1, unique: true },
    })
    expect(unique.body.code).not.toBe(a.body.code)
    const bad = await api(emu, 'POST', `/channels/${W.lobby}/invites`, {
      body: { max_age: 700000 },
    })
    expect(bad.body.errors.max_age._errors[0].code).toBe('NUMBER_TYPE_MAX')
    expect(
      (await api(emu, 'POST', `/channels/${W.category}/invites`, { body: {} })).body.code,
    ).toBe(50024)
    expect((await api(emu, 'GET', `/invites/${a.body.code}`, { token: null })).body.code).toBe(
      a.body.code,
    )
  })

  it('creates, assigns and deletes roles below its own', async () => {
    const role = await api(emu, 'POST', `/guilds/${W.guild}/roles`, {
      body: { name: 'room-1', permissions: '0' },
    })
    expect(role.status).toBe(200)
    expect(
      (await api(emu, 'PUT', `/guilds/${W.guild}/members/${W.memberA}/roles/${role.body.id}`))
        .status,
    ).toBe(204)
    expect((await api(emu, 'GET', `/guilds/${W.guild}/members/${W.memberA}`)).body.roles).toEqual([
      role.body.id,
    ])
    expect(
      (await api(emu, 'PUT', `/guilds/${W.guild}/members/${W.memberA}/roles/${W.botRole}`)).status,
    ).toBe(403)
    expect((await api(emu, 'DELETE', `/guilds/${W.guild}/roles/${role.body.id}`)).status).toBe(204)
    await waitFor(() => emu.control.state().users.length > 0)
    expect((await api(emu, 'GET', `/guilds/${W.guild}/members/${W.memberA}`)).body.roles).toEqual(
      [],
    )
  })

  it('lists a channel’s invites with MANAGE_CHANNELS', async () => {
    const created = await api(emu, 'POST', `/channels/${W.lobby}/invites`, {
      body: { max_age: 600 },
    })
    const list = await api(emu, 'GET', `/channels/${W.lobby}/invites`)
    expect(list.status).toBe(200)
    expect(list.body).toEqual([expect.objectContaining({ code: created.body.code, max_age: 600 })])
    expect((await api(emu, 'GET', `/channels/${W.table2}/invites`)).body).toEqual([])
  })
})
