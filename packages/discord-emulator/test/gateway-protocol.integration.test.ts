import { GatewayDispatchEvents as E, GatewayOpcodes as Op } from 'discord-api-types/v10'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_WORLD, type Emulator } from '../src/index.ts'
import { startTestEmulator, W, waitFor } from './support/helpers.ts'
import { gatewayUrl, RawGateway } from './support/raw-gateway.ts'

describe('gateway protocol (raw socket)', () => {
  let emu: Emulator
  const sockets: RawGateway[] = []
  const open = async (path = '/') => {
    const g = await RawGateway.open(gatewayUrl(emu.webUrl, path))
    sockets.push(g)
    return g
  }
  const ready = async (intents = 131) => {
    const g = await open()
    g.identify(emu.botToken, intents)
    const r = await g.next((f) => f.op === 0 && f.t === E.Ready)
    return { g, sessionId: (r.d as { session_id: string }).session_id }
  }

  beforeEach(async () => {
    emu = await startTestEmulator({ heartbeatIntervalMs: 1000, identifyIntervalMs: 0 })
  })
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close()
    await emu.close()
  })

  it('sends HELLO with the configured interval and ACKs heartbeats', async () => {
    const g = await open()
    expect(g.frames[0]).toEqual({ op: Op.Hello, d: { heartbeat_interval: 1000 }, s: null, t: null })
    g.send({ op: 1, d: null })
    await g.next((f) => f.op === Op.HeartbeatAck)
  })

  it('closes 4002 on malformed JSON', async () => {
    const g = await open()
    g.send('{not json')
    expect((await g.closed).code).toBe(4002)
  })

  it('closes 4002 on a payload over 4096 bytes', async () => {
    const g = await open()
    g.send({ op: 1, d: null, pad: 'x'.repeat(4100) })
    expect((await g.closed).code).toBe(4002)
  })

  it('closes 4002 on a malformed IDENTIFY', async () => {
    const g = await open()
    g.send({ op: 2, d: { token: emu.botToken } })
    expect((await g.closed).code).toBe(4002)
  })

  it('closes 4001 on an unknown opcode', async () => {
    const g = await open()
    g.send({ op: 42, d: null })
    expect((await g.closed).code).toBe(4001)
  })

  it('closes 4003 when a non-identify op comes before IDENTIFY', async () => {
    const g = await open()
    g.send({ op: 8, d: { guild_id: W.guild, query: '', limit: 0 } })
    expect((await g.closed).code).toBe(4003)
  })

  it('closes 4004 on a bad token, 4013 on invalid intents, 4005 on a second IDENTIFY', async () => {
    const a = await open()
    a.identify('nope')
    expect((await a.closed).code).toBe(4004)
    const b = await open()
    b.identify(emu.botToken, 1 << 30)
    expect((await b.closed).code).toBe(4013)
    const { g } = await ready()
    g.identify(emu.botToken)
    expect((await g.closed).code).toBe(4005)
  })

  it('closes 4012 for an unsupported API version and 4010 for an invalid shard', async () => {
    const a = await RawGateway.open(`${emu.webUrl.replace('http', 'ws')}/?v=6&encoding=json`)
    sockets.push(a)
    expect((await a.closed).code).toBe(4012)
    const b = await open()
    b.identify(emu.botToken, 131, { shard: [2, 2] })
    expect((await b.closed).code).toBe(4010)
  })

  it('numbers dispatches per session and filters them by intents', async () => {
    const voiceOnly = await ready(1 | 128)
    const guildsOnly = await ready(1)
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    await voiceOnly.g.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate)
    expect(voiceOnly.g.dispatches(E.VoiceStateUpdate)[0]!.s).toBe(3)
    // Without GUILD_VOICE_STATES: no VSU, and GUILD_CREATE has no voice states.
    await new Promise((r) => setTimeout(r, 100))
    expect(guildsOnly.g.dispatches(E.VoiceStateUpdate)).toHaveLength(0)
    // GUILD_MEMBER_ADD needs GUILD_MEMBERS.
    emu.control.setVoice({ userId: W.nonMember, channelId: W.lobby })
    await voiceOnly.g.next(
      (f) =>
        f.op === 0 &&
        f.t === E.VoiceStateUpdate &&
        (f.d as { user_id: string }).user_id === W.nonMember,
    )
    expect(voiceOnly.g.dispatches(E.GuildMemberAdd)).toHaveLength(0)
    const all = await ready(131)
    emu.control.removeMember(W.nonMember)
    const removed = await all.g.next((f) => f.op === 0 && f.t === E.GuildMemberRemove)
    expect((removed.d as { user: { id: string } }).user.id).toBe(W.nonMember)
    // Discord ends the voice state before the member leaves.
    const order = all.g.frames.filter((f) => f.op === 0).map((f) => f.t)
    expect(order.slice(-2)).toEqual([E.VoiceStateUpdate, E.GuildMemberRemove])
  })

  it('RESUME replays missed dispatches in order, then RESUMED', async () => {
    const { g, sessionId } = await ready()
    g.close()
    await waitFor(() => emu.control.stats().activeSessions === 0)
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    emu.control.setVoice({ userId: W.memberB, channelId: W.lobby })
    // Clients append `/?v=10&encoding=json` to the bare resume origin (docs events/gateway).
    const r = await RawGateway.open(`${emu.resumeGatewayUrl}/?v=10&encoding=json`)
    sockets.push(r)
    r.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: 2 } })
    await r.next((f) => f.op === 0 && f.t === E.Resumed)
    const dispatches = r.frames.filter((f) => f.op === 0)
    expect(dispatches.map((f) => [f.t, f.s])).toEqual([
      [E.VoiceStateUpdate, 3],
      [E.VoiceStateUpdate, 4],
      [E.Resumed, 5],
    ])
  })

  it('serves resume on a bare origin, with or without the slash before the query', async () => {
    const { g, sessionId } = await ready()
    expect(g.dispatches(E.Ready)[0]!.d).toMatchObject({ resume_gateway_url: emu.resumeGatewayUrl })
    g.close()
    await waitFor(() => emu.control.stats().activeSessions === 0)
    // Without the slash: the same request line as with it (`GET /?v=10...`).
    const r = await RawGateway.open(`${emu.resumeGatewayUrl}?v=10&encoding=json`)
    sockets.push(r)
    r.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: 2 } })
    await r.next((f) => f.op === 0 && f.t === E.Resumed)
    expect(emu.control.stats().resumeOriginConnections).toBe(1)
    // Only the bare origin is the gateway; plain HTTP there is a 404, not a web page.
    await expect(
      RawGateway.open(`${emu.resumeGatewayUrl}/resume/?v=10&encoding=json`),
    ).rejects.toThrow(/404/)
    expect((await fetch(emu.resumeGatewayUrl.replace('ws', 'http'))).status).toBe(404)
  })

  it('answers op 9 false for an unknown session, a bad seq, or a session closed with 1000', async () => {
    const a = await open()
    a.send({ op: 6, d: { token: emu.botToken, session_id: 'nope', seq: 1 } })
    expect((await a.next((f) => f.op === Op.InvalidSession)).d).toBe(false)
    const { g, sessionId } = await ready()
    const b = await open()
    b.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: 99 } })
    expect((await b.next((f) => f.op === Op.InvalidSession)).d).toBe(false)
    g.ws.close(1000)
    await waitFor(() => emu.control.stats().sessions === 0)
  })

  it('keeps a session resumable after any client close but 1000 and 1001', async () => {
    for (const code of [4000, 4200, 1006]) {
      const { g, sessionId } = await ready()
      if (code === 1006) g.close()
      else g.ws.close(code)
      await waitFor(() => emu.control.stats().activeSessions === 0)
      emu.control.setVoice({ userId: W.memberA, channelId: code === 4200 ? W.lobby : null })
      const r = await open()
      r.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: 2 } })
      await r.next((f) => f.op === 0 && f.t === E.Resumed)
      r.close()
      await waitFor(() => emu.control.stats().activeSessions === 0)
    }
    for (const code of [1000, 1001]) {
      const { g, sessionId } = await ready()
      const sessions = emu.control.stats().sessions
      g.ws.close(code)
      await waitFor(() => emu.control.stats().sessions === sessions - 1)
      const r = await open()
      r.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: 2 } })
      expect((await r.next((f) => f.op === Op.InvalidSession)).d).toBe(false)
    }
  })

  it('a RESUME for a session that still has a connection takes it over and closes the older one', async () => {
    const { g: older, sessionId } = await ready()
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    await older.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate)
    const newer = await RawGateway.open(`${emu.resumeGatewayUrl}/?v=10&encoding=json`)
    sockets.push(newer)
    newer.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: 2 } })
    await newer.next((f) => f.op === 0 && f.t === E.Resumed)
    // The older connection is closed with a resumable code; the session stays with the newer one.
    expect(await older.closed).toMatchObject({ code: 4000, reason: 'Session resumed elsewhere' })
    expect(newer.dispatches(E.VoiceStateUpdate).map((f) => f.s)).toEqual([3])
    expect(emu.control.stats()).toMatchObject({ sessionTakeovers: 1, activeSessions: 1 })
    emu.control.setVoice({ userId: W.memberA, channelId: null })
    await newer.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate && f.s === 5)
    expect(older.dispatches(E.VoiceStateUpdate)).toHaveLength(1)
    // The older connection's close does not end or detach the session it lost.
    expect(emu.control.stats()).toMatchObject({ sessions: 1, activeSessions: 1 })
  })

  it('forgets a disconnected session after the resume window', async () => {
    await emu.close()
    emu = await startTestEmulator({ resumeWindowMs: 200, identifyIntervalMs: 0 })
    const { g, sessionId } = await ready()
    g.close()
    await waitFor(() => emu.control.stats().activeSessions === 0)
    await new Promise((r) => setTimeout(r, 400))
    const b = await open()
    b.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: 2 } })
    expect((await b.next((f) => f.op === Op.InvalidSession)).d).toBe(false)
  })

  it('throttles identifies per max_concurrency bucket and counts session_start_limit down', async () => {
    await emu.close()
    emu = await startTestEmulator({ identifyIntervalMs: 5000, sessionStartLimit: 3 })
    await ready()
    const b = await open()
    b.identify(emu.botToken)
    expect((await b.next((f) => f.op === Op.InvalidSession)).d).toBe(false)
    const res = await fetch(`${emu.restBase}/v10/gateway/bot`, {
      headers: { authorization: `Bot ${emu.botToken}` },
    })
    const body = (await res.json()) as {
      session_start_limit: { remaining: number; total: number; max_concurrency: number }
    }
    expect(body.session_start_limit).toMatchObject({ total: 3, remaining: 2, max_concurrency: 1 })
  })

  it('terminates identifies once session_start_limit is exhausted', async () => {
    await emu.close()
    emu = await startTestEmulator({ identifyIntervalMs: 0, sessionStartLimit: 1 })
    await ready()
    const b = await open()
    b.identify(emu.botToken)
    expect((await b.closed).code).toBe(4004)
  })

  it('closes 4008 when a client sends more than the send limit', async () => {
    await emu.close()
    emu = await startTestEmulator({
      identifyIntervalMs: 0,
      gatewaySendLimit: { count: 5, windowMs: 60_000 },
    })
    const { g } = await ready()
    for (let i = 0; i < 6; i++)
      g.send({ op: 3, d: { since: null, activities: [], status: 'online', afk: false } })
    expect((await g.closed).code).toBe(4008)
  })

  it('counts heartbeats toward the send limit at their real-interval share', async () => {
    await emu.close()
    // At Discord's own interval a heartbeat costs a whole event: 3 fit, the 4th is one too many.
    emu = await startTestEmulator({
      heartbeatIntervalMs: 41_250,
      gatewaySendLimit: { count: 3, windowMs: 60_000 },
    })
    const slow = await open()
    for (let i = 0; i < 4; i++) slow.send({ op: 1, d: null })
    expect((await slow.closed).code).toBe(4008)
    await emu.close()
    // At a test interval of 400 ms, 20 heartbeats cost about a fifth of one event.
    emu = await startTestEmulator({
      heartbeatIntervalMs: 400,
      gatewaySendLimit: { count: 3, windowMs: 60_000 },
    })
    const fast = await open()
    fast.identify(emu.botToken)
    await fast.next((f) => f.op === 0 && f.t === E.Ready)
    for (let i = 0; i < 20; i++) fast.send({ op: 1, d: null })
    await waitFor(() => fast.frames.filter((f) => f.op === Op.HeartbeatAck).length === 20)
    expect(emu.control.stats().heartbeats).toBe(20)
    // identify 1 + heartbeats ~0.19 + presence 1 = 2.19; the second presence makes 3.19 > 3.
    for (let i = 0; i < 2; i++) {
      fast.send({ op: 3, d: { since: null, activities: [], status: 'online', afk: false } })
    }
    expect((await fast.closed).code).toBe(4008)
  })

  it('asks for a heartbeat with op 1 (control requestHeartbeat)', async () => {
    const g = await open()
    emu.control.requestHeartbeat()
    const request = await g.next((f) => f.op === Op.Heartbeat)
    expect(request).toEqual({ op: Op.Heartbeat, d: null, s: null, t: null })
  })

  it('accepts the deprecated $-prefixed connection properties', async () => {
    const g = await open()
    g.send({
      op: 2,
      d: {
        token: emu.botToken,
        intents: 1,
        properties: { $os: 'linux', $browser: 'x', $device: 'x' },
      },
    })
    await g.next((f) => f.op === 0 && f.t === E.Ready)
  })

  it('op 43 answers CHANNEL_INFO with the voice session start times', async () => {
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    const { g } = await ready(1)
    g.send({ op: 43, d: { guild_id: W.guild, fields: ['status', 'voice_start_time'] } })
    const info = await g.next((f) => f.op === 0 && f.t === E.ChannelInfo)
    const channels = (info.d as { channels: { id: string; voice_start_time: number | null }[] })
      .channels
    const lobby = channels.find((c) => c.id === W.lobby)!
    expect(lobby).toMatchObject({ status: null })
    expect(Math.abs(lobby.voice_start_time! - Date.now() / 1000)).toBeLessThan(60)
    expect(channels.find((c) => c.id === W.table2)).toEqual({
      id: W.table2,
      status: null,
      voice_start_time: null,
    })
    emu.control.setVoice({ userId: W.memberA, channelId: null })
    g.send({ op: 43, d: { guild_id: W.guild, fields: ['voice_start_time'] } })
    await waitFor(() => g.dispatches(E.ChannelInfo).length === 2)
    const after = g.dispatches(E.ChannelInfo)[1]!.d as { channels: { id: string }[] }
    expect(after.channels.find((c) => c.id === W.lobby)).toEqual({
      id: W.lobby,
      voice_start_time: null,
    })
  })

  it('sends the bot its own GUILD_MEMBER_UPDATE without the GUILD_MEMBERS intent', async () => {
    const { g } = await ready(1)
    await fetch(`${emu.restBase}/v10/guilds/${W.guild}/members/@me`, {
      method: 'PATCH',
      headers: { authorization: `Bot ${emu.botToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ nick: 'Dealer' }),
    })
    const update = await g.next((f) => f.op === 0 && f.t === E.GuildMemberUpdate)
    expect((update.d as { nick: string }).nick).toBe('Dealer')
    emu.control.removeMember(W.memberA)
    await new Promise((r) => setTimeout(r, 100))
    expect(g.dispatches(E.GuildMemberRemove)).toHaveLength(0)
  })

  it('closes 4009 when the client stops heartbeating, and the session stays resumable', async () => {
    await emu.close()
    emu = await startTestEmulator({ heartbeatIntervalMs: 100 })
    const g = await open()
    g.identify(emu.botToken)
    const ready = await g.next((f) => f.op === 0 && f.t === E.Ready)
    expect((await g.closed).code).toBe(4009)
    // ...and the app is "forced to Resume" (docs events/gateway): the session is still there.
    const r = await RawGateway.open(`${emu.resumeGatewayUrl}/?v=10&encoding=json`)
    sockets.push(r)
    const sessionId = (ready.d as { session_id: string }).session_id
    r.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: 2 } })
    await r.next((f) => f.op === 0 && f.t === E.Resumed)
    // An explicit close with 4009 ("start a new one") ends the session.
    emu.control.closeGateway(4009)
    await waitFor(() => emu.control.stats().sessions === 0)
  })

  it('op 8 answers GUILD_MEMBERS_CHUNK, rate-limits repeated full requests, needs GUILD_MEMBERS', async () => {
    const { g } = await ready()
    g.send({ op: 8, d: { guild_id: W.guild, query: '', limit: 0, nonce: 'n1' } })
    const chunk = await g.next((f) => f.op === 0 && f.t === E.GuildMembersChunk)
    const d = chunk.d as {
      members: { user: { id: string } }[]
      chunk_index: number
      chunk_count: number
      nonce: string
    }
    expect(d.members.map((m) => m.user.id).sort()).toEqual(
      [W.bot, W.owner, W.memberA, W.memberB, W.memberC].sort(),
    )
    expect(d).toMatchObject({ chunk_index: 0, chunk_count: 1, nonce: 'n1' })
    g.send({ op: 8, d: { guild_id: W.guild, query: '', limit: 0 } })
    const limited = await g.next((f) => f.op === 0 && f.t === E.RateLimited)
    expect((limited.d as { opcode: number }).opcode).toBe(8)
    g.send({ op: 8, d: { guild_id: W.guild, user_ids: [W.memberA, W.nonMember] } })
    const byId = await g.next((f) => f.op === 0 && f.t === E.GuildMembersChunk && f !== chunk)
    expect((byId.d as { not_found: string[] }).not_found).toEqual([W.nonMember])
    const voiceOnly = await ready(1 | 128)
    voiceOnly.g.send({ op: 8, d: { guild_id: W.guild, query: '', limit: 0 } })
    expect((await voiceOnly.g.closed).code).toBe(4014)
  })

  it('reports each dispatch written to a socket through onDispatch', async () => {
    await emu.close()
    const seen: { t: string; s: number; sentAt: number }[] = []
    emu = await startTestEmulator({ identifyIntervalMs: 0, onDispatch: (e) => seen.push(e) })
    const before = performance.timeOrigin + performance.now()
    const { g } = await ready()
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    await g.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate)
    expect(seen.map((e) => [e.t, e.s])).toEqual([
      [E.Ready, 1],
      [E.GuildCreate, 2],
      [E.VoiceStateUpdate, 3],
    ])
    expect(
      seen.every(
        (e) => e.sentAt >= before && e.sentAt <= performance.timeOrigin + performance.now(),
      ),
    ).toBe(true)
  })

  it('op 4 moves the bot itself into voice', async () => {
    const { g } = await ready()
    g.send({
      op: 4,
      d: { guild_id: W.guild, channel_id: W.lobby, self_mute: false, self_deaf: true },
    })
    const vsu = await g.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate)
    expect(vsu.d).toMatchObject({ user_id: W.bot, channel_id: W.lobby, self_deaf: true })
  })

  it('one client’s bad input does not disturb another', async () => {
    const { g: good } = await ready()
    const bad = await open()
    bad.send('\u0000garbage')
    expect((await bad.closed).code).toBe(4002)
    const cases: [unknown, number][] = [
      [{ op: 2, d: null }, 4002],
      [{ op: 6, d: { token: 1 } }, 4002],
      [[1, 2, 3], 4002],
      [{ op: '1' }, 4002],
      [{ op: 4, d: {} }, 4003],
      [{ op: 11, d: null }, 4001],
    ]
    for (const [frame, code] of cases) {
      const s = await open()
      s.send(frame)
      expect((await s.closed).code).toBe(code)
    }
    const identified = await ready()
    for (const frame of [
      { op: 8, d: { guild_id: 5 } },
      { op: 4, d: { guild_id: W.guild } },
    ]) {
      identified.g.send(frame)
    }
    expect((await identified.g.closed).code).toBe(4002)
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    await good.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate)
  })

  it('op 9 resumable: the client resumes on the same socket', async () => {
    const { g, sessionId } = await ready()
    emu.control.invalidate(true)
    expect((await g.next((f) => f.op === Op.InvalidSession)).d).toBe(true)
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    g.send({ op: 6, d: { token: emu.botToken, session_id: sessionId, seq: 2 } })
    await g.next((f) => f.op === 0 && f.t === E.Resumed)
    expect(g.dispatches(E.VoiceStateUpdate)).toHaveLength(1)
  })

  it('refuses connections for a while, and rejects unknown paths', async () => {
    emu.control.refuse(300)
    await expect(RawGateway.open(gatewayUrl(emu.webUrl))).rejects.toThrow(/503/)
    await new Promise((r) => setTimeout(r, 350))
    await open()
    await expect(RawGateway.open(gatewayUrl(emu.webUrl, '/elsewhere'))).rejects.toThrow(/404/)
  })

  it('closes with the requested code, and reports the bot user from the seed', async () => {
    const { g } = await ready()
    emu.control.closeGateway(4000)
    expect((await g.closed).code).toBe(4000)
    const readyFrame = g.dispatches(E.Ready)[0]!
    expect((readyFrame.d as { user: { username: string } }).user.username).toBe(
      DEFAULT_WORLD.bot.username,
    )
  })
})
