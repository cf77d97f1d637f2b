import { GatewayDispatchEvents as E, PermissionFlagsBits as P } from 'discord-api-types/v10'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import { DEFAULT_WORLD } from '../src/index.ts'
import { api, startTestEmulator, W } from './support/helpers.ts'
import { gatewayUrl, RawGateway } from './support/raw-gateway.ts'

describe('REST: members and voice states', () => {
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

  it('GET member: 200 with user, 10007 for non-members', async () => {
    const m = await api(emu, 'GET', `/guilds/${W.guild}/members/${W.memberA}`)
    expect(m.body).toMatchObject({ user: { id: W.memberA }, roles: [], deaf: false, mute: false })
    expect((await api(emu, 'GET', `/guilds/${W.guild}/members/${W.nonMember}`)).body).toEqual({
      message: 'Unknown Member',
      code: 10007,
    })
    const list = await api(emu, 'GET', `/guilds/${W.guild}/members?limit=1000`)
    expect(list.body).toHaveLength(5)
    const bad = await api(emu, 'GET', `/guilds/${W.guild}/members?limit=abc&after=x`)
    expect(bad.body.code).toBe(50035)
    expect((await api(emu, 'GET', '/channels/%E0%A4%A')).status).toBe(404)
  })

  it('PUT member with a guilds.join token: 201 + GUILD_MEMBER_ADD, then 204; bad tokens 403', async () => {
    const { accessToken } = emu.control.issueAccessToken({
      userId: W.nonMember,
      scopes: ['identify', 'guilds.join'],
    })
    const added = await api(emu, 'PUT', `/guilds/${W.guild}/members/${W.nonMember}`, {
      body: { access_token: accessToken },
    })
    expect(added.status).toBe(201)
    expect(added.body.user.id).toBe(W.nonMember)
    const ev = await gw.next((f) => f.op === 0 && f.t === E.GuildMemberAdd)
    expect(ev.d).toMatchObject({ guild_id: W.guild, user: { id: W.nonMember } })
    const again = await api(emu, 'PUT', `/guilds/${W.guild}/members/${W.nonMember}`, {
      body: { access_token: accessToken },
    })
    expect(again.status).toBe(204)
    const noScope = emu.control.issueAccessToken({ userId: W.nonMember2, scopes: ['identify'] })
    const r1 = await api(emu, 'PUT', `/guilds/${W.guild}/members/${W.nonMember2}`, {
      body: { access_token: noScope.accessToken },
    })
    expect(r1.status).toBe(403)
    const otherApp = emu.control.issueAccessToken({
      userId: W.nonMember2,
      scopes: ['guilds.join'],
      clientId: DEFAULT_WORLD.extraApplications[0]!.id,
    })
    const r2 = await api(emu, 'PUT', `/guilds/${W.guild}/members/${W.nonMember2}`, {
      body: { access_token: otherApp.accessToken },
    })
    expect(r2.body).toEqual({ message: 'Invalid OAuth2 access token', code: 50025 })
    const wrongUser = await api(emu, 'PUT', `/guilds/${W.guild}/members/${W.nonMember2}`, {
      body: { access_token: accessToken },
    })
    expect(wrongUser.status).toBe(403)
    expect(
      (await api(emu, 'PUT', `/guilds/${W.guild}/members/${W.nonMember2}`, { body: {} })).body.code,
    ).toBe(50035)
  })

  it('PATCH channel_id moves a member: VSU + GUILD_MEMBER_UPDATE; 40032 when not in voice', async () => {
    expect(
      (
        await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, {
          body: { channel_id: W.lobby },
        })
      ).body,
    ).toEqual({
      message: 'Target user is not connected to voice.',
      code: 40032,
    })
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    const moved = await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, {
      body: { channel_id: W.table2 },
    })
    expect(moved.status).toBe(200)
    await gw.next((f) => f.op === 0 && f.t === E.GuildMemberUpdate)
    const tail = gw.frames.filter((f) => f.op === 0).slice(-2)
    expect(tail.map((f) => f.t)).toEqual([E.VoiceStateUpdate, E.GuildMemberUpdate])
    expect(tail[0]!.d).toMatchObject({ user_id: W.memberA, channel_id: W.table2 })
    expect(
      (
        await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, {
          body: { channel_id: '123456789012345678' },
        })
      ).body.code,
    ).toBe(10003)
    const out = await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, {
      body: { channel_id: null },
    })
    expect(out.status).toBe(200)
    expect(emu.control.state().voiceStates).toEqual([])
  })

  it('moving bypasses user_limit (MOVE_MEMBERS) but needs CONNECT on the target and MOVE_MEMBERS on the source', async () => {
    for (const u of [W.owner, W.memberB, W.memberC, W.nonMember])
      emu.control.setVoice({ userId: u, channelId: W.table2 })
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    const full = await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, {
      body: { channel_id: W.table2 },
    })
    expect(full.status).toBe(200)
    // Deny the bot CONNECT on Lobby, then try to move someone there.
    await api(emu, 'PUT', `/channels/${W.lobby}/permissions/${W.bot}`, {
      body: { type: 1, deny: P.Connect.toString() },
    })
    const noConnect = await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, {
      body: { channel_id: W.lobby },
    })
    expect(noConnect.body).toEqual({ message: 'Missing Permissions', code: 50013 })
    // Deny the bot MOVE_MEMBERS on Table 2 (the source).
    await api(emu, 'DELETE', `/channels/${W.lobby}/permissions/${W.bot}`)
    await api(emu, 'PUT', `/channels/${W.table2}/permissions/${W.bot}`, {
      body: { type: 1, deny: P.MoveMembers.toString() },
    })
    const noMove = await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, {
      body: { channel_id: W.lobby },
    })
    expect(noMove.body.code).toBe(50013)
  })

  it('PATCH mute/deaf needs voice; nick needs MANAGE_NICKNAMES', async () => {
    expect(
      (await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, { body: { mute: true } }))
        .body.code,
    ).toBe(40032)
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    const muted = await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, {
      body: { mute: true },
    })
    expect(muted.body.mute).toBe(true)
    expect(emu.control.state().voiceStates[0]).toMatchObject({ mute: true })
    expect(
      (await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.memberA}`, { body: { nick: 'x' } }))
        .body.code,
    ).toBe(50013)
    expect(
      (await api(emu, 'PATCH', `/guilds/${W.guild}/members/${W.nonMember}`, { body: {} })).body
        .code,
    ).toBe(10007)
    expect((await api(emu, 'DELETE', `/guilds/${W.guild}/members/${W.memberA}`)).body.code).toBe(
      50013,
    )
  })

  it('GET voice-states: the state, 10065 when not in voice, 50001 without CONNECT there', async () => {
    expect((await api(emu, 'GET', `/guilds/${W.guild}/voice-states/${W.memberA}`)).body).toEqual({
      message: 'Unknown Voice State',
      code: 10065,
    })
    expect((await api(emu, 'GET', `/guilds/${W.guild}/voice-states/@me`)).body.code).toBe(10065)
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby, selfMute: true })
    const vs = await api(emu, 'GET', `/guilds/${W.guild}/voice-states/${W.memberA}`)
    expect(vs.body).toMatchObject({
      guild_id: W.guild,
      channel_id: W.lobby,
      user_id: W.memberA,
      self_mute: true,
      member: { user: { id: W.memberA } },
    })
    await api(emu, 'PUT', `/channels/${W.lobby}/permissions/${W.bot}`, {
      body: { type: 1, deny: P.Connect.toString() },
    })
    expect((await api(emu, 'GET', `/guilds/${W.guild}/voice-states/${W.memberA}`)).body.code).toBe(
      50001,
    )
    gw.send({
      op: 4,
      d: { guild_id: W.guild, channel_id: W.table2, self_mute: false, self_deaf: false },
    })
    await gw.next(
      (f) =>
        f.op === 0 && f.t === E.VoiceStateUpdate && (f.d as { user_id: string }).user_id === W.bot,
    )
    expect((await api(emu, 'GET', `/guilds/${W.guild}/voice-states/@me`)).body.channel_id).toBe(
      W.table2,
    )
  })

  it('search members by name prefix, the bot’s own nickname, and stage-only voice-state edits', async () => {
    const found = await api(emu, 'GET', `/guilds/${W.guild}/members/search?query=URZA&limit=5`)
    expect(found.body.map((m: { user: { id: string } }) => m.user.id)).toEqual([W.memberA])
    const noQuery = await api(emu, 'GET', `/guilds/${W.guild}/members/search`)
    expect(noQuery.body.errors.query._errors[0].code).toBe('BASE_TYPE_REQUIRED')
    const me = await api(emu, 'PATCH', `/guilds/${W.guild}/members/@me`, {
      body: { nick: 'Dealer' },
    })
    expect(me.body).toMatchObject({ nick: 'Dealer', user: { id: W.bot } })
    const update = await gw.next(
      (f) =>
        f.op === 0 && f.t === E.GuildMemberUpdate && (f.d as { nick: string }).nick === 'Dealer',
    )
    expect((update.d as { user: { id: string } }).user.id).toBe(W.bot)
    // Voice-state edits are for stage channels; a user not in voice is 10065 first.
    const path = `/guilds/${W.guild}/voice-states/${W.memberA}`
    expect((await api(emu, 'PATCH', path, { body: { suppress: true } })).body.code).toBe(10065)
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    const onVoice = await api(emu, 'PATCH', path, { body: { channel_id: W.lobby, suppress: true } })
    expect([onVoice.status, onVoice.body.code]).toEqual([400, 50024])
  })
})
