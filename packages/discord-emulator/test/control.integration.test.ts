import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GatewayDispatchEvents as E } from 'discord-api-types/v10'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_WORLD, type Emulator, type EmulatorState, startEmulator } from '../src/index.ts'
import { startTestEmulator, W, waitFor } from './support/helpers.ts'
import { gatewayUrl, RawGateway } from './support/raw-gateway.ts'

describe('control API over HTTP', () => {
  let emu: Emulator
  beforeEach(async () => {
    emu = await startTestEmulator({ identifyIntervalMs: 0 })
  })
  afterEach(async () => {
    await emu.close()
  })
  const post = async (path: string, body?: unknown) => {
    const res = await fetch(`${emu.webUrl}/_emulator${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }
  const state = async () =>
    (await (await fetch(`${emu.webUrl}/_emulator/state`)).json()) as EmulatorState

  it('GET /_emulator/state has ids, credentials, users, channels and voice states', async () => {
    const s = await state()
    expect(s).toMatchObject({
      guildId: W.guild,
      botUserId: W.bot,
      botToken: emu.botToken,
      clientId: W.bot,
      clientSecret: emu.clientSecret,
    })
    expect(s.users.filter((u) => !u.bot)).toHaveLength(6)
    expect(s.channels.map((c) => c.name)).toEqual(['Game Rooms', 'general', 'Lobby', 'Table 2'])
    expect(s.voiceStates).toEqual([])
  })

  it('POST /users creates a user; POST /voice joins (adding the member first) and leaves', async () => {
    const gw = await RawGateway.open(gatewayUrl(emu.webUrl))
    gw.identify(emu.botToken)
    await gw.next((f) => f.op === 0 && f.t === E.GuildCreate)
    const created = await post('/users', { username: 'new.player', globalName: 'New' })
    const id = created.body.id as string
    expect(id).toMatch(/^\d{17,20}$/)
    expect((await post('/voice', { userId: id, channelId: W.lobby, selfVideo: true })).status).toBe(
      200,
    )
    await gw.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate)
    const types = gw.frames.filter((f) => f.op === 0).map((f) => f.t)
    expect(types.slice(-2)).toEqual([E.GuildMemberAdd, E.VoiceStateUpdate])
    expect((await state()).voiceStates).toEqual([
      expect.objectContaining({ userId: id, channelId: W.lobby, selfVideo: true }),
    ])
    await post('/voice', { userId: id, channelId: null })
    expect((await state()).voiceStates).toEqual([])
    await post('/voice', { userId: id, channelId: W.lobby })
    expect((await post('/members/remove', { userId: id })).status).toBe(200)
    await gw.next((f) => f.op === 0 && f.t === E.GuildMemberRemove)
    expect((await state()).voiceStates).toEqual([])
    gw.close()
  })

  it('rejects bad bodies with 400 and a clear message, unknown ids with 404', async () => {
    const bad = await post('/voice', { userId: 'abc', channelId: W.lobby })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/userId/)
    expect((await post('/voice', '{oops')).status).toBe(400)
    expect((await post('/users', { username: 'A B' })).status).toBe(400)
    expect((await post('/gateway/close', { code: 'x' })).status).toBe(400)
    expect((await post('/gateway/close', { code: 1005 })).status).toBe(400)
    expect((await post('/rest/faults', { path: 'no-slash', status: 429 })).status).toBe(400)
    expect(
      (await post('/voice', { userId: '123456789012345678', channelId: W.lobby })).status,
    ).toBe(404)
    expect((await post('/voice', { userId: W.memberA, channelId: W.text })).status).toBe(404)
    expect((await post('/nope', {})).status).toBe(404)
  })

  it('gateway controls: close, reconnect, invalidate, acks, refuse, restart; counters', async () => {
    const gw = await RawGateway.open(gatewayUrl(emu.webUrl))
    gw.identify(emu.botToken)
    await gw.next((f) => f.op === 0 && f.t === E.Ready)
    expect(await post('/gateway/reconnect')).toMatchObject({ status: 200 })
    await gw.next((f) => f.op === 7)
    await post('/gateway/heartbeat-acks', { enabled: false })
    gw.send({ op: 1, d: 2 })
    await new Promise((r) => setTimeout(r, 100))
    expect(gw.frames.some((f) => f.op === 11)).toBe(false)
    await post('/gateway/heartbeat-acks', { enabled: true })
    gw.send({ op: 1, d: 2 })
    await gw.next((f) => f.op === 11)
    await post('/gateway/invalidate', { resumable: false })
    expect((await gw.next((f) => f.op === 9)).d).toBe(false)
    expect(
      (await (await fetch(`${emu.webUrl}/_emulator/stats`)).json()) as Record<string, number>,
    ).toMatchObject({ identifies: 1, sessions: 0 })
    await post('/gateway/close', { code: 1006 })
    expect((await gw.closed).code).toBe(1006)
    const g2 = await RawGateway.open(gatewayUrl(emu.webUrl))
    g2.identify(emu.botToken)
    await g2.next((f) => f.op === 0 && f.t === E.Ready)
    await post('/gateway/restart')
    await g2.closed
    expect(emu.control.stats()).toMatchObject({ sessions: 0, identifies: 2 })
    await post('/gateway/refuse', { ms: 500 })
    await expect(RawGateway.open(gatewayUrl(emu.webUrl))).rejects.toThrow()
  })

  it('POST /rest/faults injects a 429 with headers; GET /rest/log lists requests', async () => {
    await post('/rest/faults', {
      method: 'GET',
      path: '/users/@me',
      status: 429,
      retryAfter: 2,
      global: true,
    })
    const res = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bot ${emu.botToken}` },
    })
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('2')
    expect(res.headers.get('x-ratelimit-global')).toBe('true')
    expect(await res.json()).toEqual({
      message: 'You are being rate limited.',
      retry_after: 2,
      global: true,
    })
    const log = (await (await fetch(`${emu.webUrl}/_emulator/rest/log`)).json()) as {
      path: string
      status: number
    }[]
    expect(log).toEqual([expect.objectContaining({ path: '/users/@me', status: 429 })])
  })

  it('POST /oauth/tokens mints a token; POST /reset restores the seeded world', async () => {
    const t = await post('/oauth/tokens', { userId: W.memberA, scopes: ['identify'] })
    const me = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bearer ${t.body.accessToken as string}` },
    })
    expect(me.status).toBe(200)
    await post('/users', { username: 'temp.user' })
    await post('/voice', { userId: W.memberA, channelId: W.lobby })
    await post('/reset')
    const s = await state()
    expect(s.users).toHaveLength(7)
    expect(s.voiceStates).toEqual([])
    const after = await fetch(`${emu.restBase}/v10/users/@me`, {
      headers: { authorization: `Bearer ${t.body.accessToken as string}` },
    })
    expect(after.status).toBe(401)
  })

  it('serves the control panel', async () => {
    const html = await (await fetch(`${emu.webUrl}/_emulator`)).text()
    expect(html).toContain('Discord emulator')
    expect(html).toContain(W.lobby)
    expect(html).toContain('Op 7 reconnect')
  })
})

describe('the tiny Discord client page', () => {
  let emu: Emulator
  beforeEach(async () => {
    emu = await startTestEmulator()
  })
  afterEach(async () => {
    await emu.close()
  })
  const cookieFor = (id: string) => ({ cookie: `emu_user=${id}` })
  const action = (channelId: string, what: string, headers: Record<string, string>, body = '') =>
    fetch(`${emu.webUrl}/channels/${W.guild}/${channelId}/${what}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
      redirect: 'manual',
    })

  it('shows the channel with accessible Join voice button and the picker', async () => {
    const res = await fetch(`${emu.webUrl}/channels/${W.guild}/${W.lobby}`, {
      headers: cookieFor(W.memberA),
    })
    const html = await res.text()
    expect(html).toContain('aria-label="Join voice"')
    expect(html).toContain('Lobby')
    expect(html).toContain('Tamsin')
    expect((await fetch(`${emu.webUrl}/channels/${W.guild}/${W.text}`)).status).toBe(404)
  })

  it('joins and leaves as the cookie user, and shows who is in the channel', async () => {
    const join = await action(W.lobby, 'join', cookieFor(W.memberA))
    expect(join.status).toBe(303)
    expect(emu.control.state().voiceStates).toEqual([
      expect.objectContaining({ userId: W.memberA, channelId: W.lobby }),
    ])
    const html = await (
      await fetch(`${emu.webUrl}/channels/${W.guild}/${W.lobby}`, { headers: cookieFor(W.memberA) })
    ).text()
    expect(html).toContain('aria-label="Leave voice"')
    expect(html).toContain(`data-user-id="${W.memberA}"`)
    await action(W.lobby, 'flags', cookieFor(W.memberA), 'flag=selfVideo')
    expect(emu.control.state().voiceStates[0]?.selfVideo).toBe(true)
    await action(W.lobby, 'leave', cookieFor(W.memberA))
    expect(emu.control.state().voiceStates).toEqual([])
  })

  it('the picker switches user through the cookie', async () => {
    const res = await action(W.lobby, 'user', {}, `user_id=${W.memberB}`)
    expect(res.headers.get('set-cookie')).toContain(`emu_user=${W.memberB}`)
  })

  it('obeys user_limit for users without MOVE_MEMBERS, CONNECT, and membership', async () => {
    for (const u of [W.memberB, W.memberC, W.owner])
      emu.control.setVoice({ userId: u, channelId: W.table2 })
    emu.control.setVoice({ userId: W.nonMember, channelId: W.table2 })
    const full = await action(W.table2, 'join', cookieFor(W.memberA))
    expect(decodeURIComponent(full.headers.get('location') ?? '')).toContain('full')
    expect(emu.control.state().voiceStates.some((v) => v.userId === W.memberA)).toBe(false)
    const notMember = await action(W.lobby, 'join', cookieFor(W.nonMember2))
    expect(decodeURIComponent(notMember.headers.get('location') ?? '')).toContain('not a member')
    const rest = await fetch(`${emu.restBase}/v10/channels/${W.lobby}/permissions/${W.memberA}`, {
      method: 'PUT',
      headers: { authorization: `Bot ${emu.botToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 1, deny: String(1 << 20) }),
    })
    expect(rest.status).toBe(204)
    const denied = await action(W.lobby, 'join', cookieFor(W.memberA))
    expect(decodeURIComponent(denied.headers.get('location') ?? '')).toContain('permission')
  })
})

describe('start-up', () => {
  it('starts and closes cleanly', async () => {
    const emu = await startEmulator({ quiet: true })
    expect(emu.restBase).toBe(`http://127.0.0.1:${emu.port}/api`)
    expect(emu.guildId).toBe(DEFAULT_WORLD.guild.id)
    await emu.close()
    await expect(fetch(`${emu.webUrl}/_emulator/state`)).rejects.toThrow()
  })

  it('has deterministic ids and token for the default world', async () => {
    const a = await startEmulator({ quiet: true })
    const b = await startEmulator({ quiet: true })
    expect(a.botToken).toBe(b.botToken)
    expect(a.botToken.split('.')[0]).toBe(Buffer.from(a.botUserId).toString('base64url'))
    expect(a.control.state().channels).toEqual(b.control.state().channels)
    await a.close()
    await b.close()
  })

  it('loads a world from a JSON file and validates it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-'))
    const file = join(dir, 'world.json')
    writeFileSync(
      file,
      JSON.stringify({ ...DEFAULT_WORLD, guild: { ...DEFAULT_WORLD.guild, name: 'From File' } }),
    )
    const emu = await startEmulator({ quiet: true, world: file })
    expect(emu.control.state().guildName).toBe('From File')
    await emu.close()
    writeFileSync(file, JSON.stringify({ guild: {} }))
    await expect(startEmulator({ quiet: true, world: file })).rejects.toThrow(/invalid world seed/)
  })

  it('CLI --print-env prints the env lines, and SIGTERM closes it', async () => {
    const bin = join(import.meta.dirname, '..', 'bin', 'discord-emulator.mjs')
    const child = spawn(process.execPath, [bin, '--port', '0', '--print-env'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    await waitFor(() => out.includes('DISCORD_GUILD_ID='), 15_000, 'env lines')
    const env = Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2) as [string, string]),
    )
    expect(Object.keys(env)).toEqual([
      'DISCORD_API_URL',
      'DISCORD_WEB_URL',
      'DISCORD_BOT_TOKEN',
      'DISCORD_CLIENT_ID',
      'DISCORD_CLIENT_SECRET',
      'DISCORD_GUILD_ID',
    ])
    const res = await fetch(`${env.DISCORD_API_URL}/v10/users/@me`, {
      headers: { authorization: `Bot ${env.DISCORD_BOT_TOKEN}` },
    })
    expect(res.status).toBe(200)
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    )
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
