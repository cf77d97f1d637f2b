import { ChannelTypes, Client, type ClientOptions, DiscordRESTError } from 'oceanic.js'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_WORLD, type Emulator, shardOf } from '../src/index.ts'
import { startTestEmulator, W, waitFor } from './support/helpers.ts'

/*
 * Oceanic.js, a Discord library written by other people (not the discord.js family), unmodified:
 * only its REST base URL points at the emulator. It finds the gateway through GET /gateway/bot and
 * resumes on READY's resume_gateway_url by appending `/?v=10&encoding=json`, as against Discord.
 */

interface Packet {
  op: number
  t?: string
  s?: number
  d: unknown
}

describe('Oceanic.js against the emulator', () => {
  let emu: Emulator
  let client: Client | null = null
  afterEach(async () => {
    client?.disconnect(false)
    client = null
    await emu.close()
  })

  function makeClient(gateway: ClientOptions['gateway'] = {}) {
    const c = new Client({
      auth: `Bot ${emu.botToken}`,
      rest: { baseURL: `${emu.restBase}/v10` },
      gateway: { intents: 131, guildCreateTimeout: 200, ...gateway },
    })
    const seen = { packets: [] as Packet[], errors: [] as Error[], warnings: [] as string[] }
    c.on('packet', (p) => seen.packets.push(p as Packet))
    c.on('error', (err) => seen.errors.push(err instanceof Error ? err : new Error(String(err))))
    c.on('warn', (message) => seen.warnings.push(String(message)))
    client = c
    return { c, seen }
  }

  async function connect(gateway: ClientOptions['gateway'] = {}) {
    const made = makeClient(gateway)
    const ready = new Promise<void>((resolve) => made.c.once('ready', () => resolve()))
    await made.c.connect()
    await ready
    return made
  }

  it('connects, identifies, and caches the guild with its voice states from GUILD_CREATE', async () => {
    emu = await startTestEmulator({ heartbeatIntervalMs: 300 })
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby, selfVideo: true })
    const { c, seen } = await connect()
    const ready = seen.packets.find((p) => p.t === 'READY')!
    expect(ready.d).toMatchObject({ resume_gateway_url: emu.resumeGatewayUrl })
    const guild = c.guilds.get(W.guild)!
    expect(guild.name).toBe(DEFAULT_WORLD.guild.name)
    expect(guild.voiceStates.get(W.memberA)).toMatchObject({ channelID: W.lobby, selfVideo: true })
    expect(c.user.id).toBe(W.bot)
    expect(emu.control.stats().identifies).toBe(1)
    expect(seen.errors).toEqual([])
  })

  it('sees joins, moves and leaves from the control API as voice events', async () => {
    emu = await startTestEmulator({ heartbeatIntervalMs: 300 })
    const { c } = await connect()
    const events: string[] = []
    c.on('voiceChannelJoin', (m, ch) => events.push(`join ${m.id} ${ch?.id}`))
    c.on('voiceChannelSwitch', (m, ch, old) => events.push(`move ${m.id} ${old?.id}>${ch?.id}`))
    c.on('voiceChannelLeave', (m, old) => events.push(`leave ${m.id} ${old?.id}`))
    emu.control.setVoice({ userId: W.memberB, channelId: W.lobby })
    emu.control.setVoice({ userId: W.memberB, channelId: W.table2 })
    emu.control.setVoice({ userId: W.memberB, channelId: null })
    await waitFor(() => events.length === 3)
    expect(events).toEqual([
      `join ${W.memberB} ${W.lobby}`,
      `move ${W.memberB} ${W.lobby}>${W.table2}`,
      `leave ${W.memberB} ${W.table2}`,
    ])
  })

  it('resumes on the bare resume origin after a dropped connection and gets the replay', async () => {
    emu = await startTestEmulator({ heartbeatIntervalMs: 300 })
    const { c, seen } = await connect()
    const resumed = new Promise<void>((resolve) => c.once('shardResume', () => resolve()))
    const joined: string[] = []
    c.on('voiceChannelJoin', (m) => joined.push(m.id))
    // Oceanic reconnects at once, so the events happen in the same tick as the drop: they reach
    // the session's buffer but not the dropped socket.
    emu.control.closeGateway(1006)
    emu.control.setVoice({ userId: W.memberB, channelId: W.lobby })
    emu.control.setVoice({ userId: W.memberC, channelId: W.table2 })
    await resumed
    await waitFor(() => joined.length === 2)
    expect(joined).toEqual([W.memberB, W.memberC])
    const replayed = seen.packets.slice(-3).map((p) => p.t)
    expect(replayed).toEqual(['VOICE_STATE_UPDATE', 'VOICE_STATE_UPDATE', 'RESUMED'])
    const stats = emu.control.stats()
    expect(stats).toMatchObject({ identifies: 1, resumes: 1, resumeOriginConnections: 1 })
    // Replayed in order, then RESUMED, with one sequence for the whole session.
    const seqs = seen.packets.filter((p) => p.op === 0).map((p) => p.s)
    expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    expect(seen.packets.at(-1)?.t).toBe('RESUMED')
  })

  it('resumes after op 7 and answers a server heartbeat request (op 1)', async () => {
    emu = await startTestEmulator({ heartbeatIntervalMs: 5000 })
    const { c } = await connect()
    const before = emu.control.stats().heartbeats
    emu.control.requestHeartbeat()
    await waitFor(() => emu.control.stats().heartbeats > before, 3000, 'heartbeat answer')
    const resumed = new Promise<void>((resolve) => c.once('shardResume', () => resolve()))
    emu.control.reconnect()
    await resumed
    expect(emu.control.stats()).toMatchObject({ identifies: 1, resumes: 1 })
  })

  it('makes REST calls and reads Discord’s errors', async () => {
    emu = await startTestEmulator({ heartbeatIntervalMs: 300 })
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    const { c } = await connect()
    const room = await c.rest.guilds.createChannel(W.guild, ChannelTypes.GUILD_VOICE, {
      name: 'Game 1',
      userLimit: 4,
      parentID: W.category,
      // @everyone may not see or join it; the bot may (it can only move people where it connects).
      permissionOverwrites: [
        { id: W.guild, type: 0, deny: '1049600' },
        { id: W.bot, type: 1, allow: '17826816' },
      ],
    })
    expect(room).toMatchObject({ name: 'Game 1', userLimit: 4, parentID: W.category })
    await waitFor(() => c.guilds.get(W.guild)?.channels.has(room.id))
    const moved = new Promise<string>((resolve) =>
      c.once('voiceChannelSwitch', (_m, ch) => resolve(String(ch?.id))),
    )
    await c.rest.guilds.editMember(W.guild, W.memberA, { channelID: room.id })
    expect(await moved).toBe(room.id)
    const state = await c.rest.guilds.getVoiceState(W.guild, W.memberA)
    expect(state.channelID).toBe(room.id)
    const notInVoice = await c.rest.guilds.getVoiceState(W.guild, W.memberB).catch((e) => e)
    expect(notInVoice).toBeInstanceOf(DiscordRESTError)
    expect((notInVoice as DiscordRESTError).code).toBe(10065)
    const move = await c.rest.guilds
      .editMember(W.guild, W.memberB, { channelID: room.id })
      .catch((e) => e)
    expect((move as DiscordRESTError).code).toBe(40032)
    const invalid = await c.rest.guilds
      .createChannel(W.guild, ChannelTypes.GUILD_VOICE, { name: '', userLimit: 120 })
      .catch((e) => e)
    expect((invalid as DiscordRESTError).code).toBe(50035)
    expect((invalid as DiscordRESTError).resBody).toMatchObject({
      errors: { user_limit: { _errors: [expect.objectContaining({ code: 'NUMBER_TYPE_MAX' })] } },
    })
  })

  it('waits out an injected 429 for as long as the headers say', async () => {
    emu = await startTestEmulator()
    const { c } = makeClient()
    emu.control.restFault({
      method: 'GET',
      path: '/guilds/:guildId/channels',
      status: 429,
      retryAfter: 0.5,
    })
    const start = Date.now()
    const channels = await c.rest.guilds.getChannels(W.guild)
    expect(channels.map((ch) => ch.id)).toContain(W.lobby)
    // Oceanic reads X-RateLimit-Reset-After, which matches the body's retry_after.
    expect(Date.now() - start).toBeGreaterThanOrEqual(480)
    expect(emu.control.restLog().map((e) => e.status)).toEqual([429, 200])
    // A shared-resource 429 is waited out by its body's retry_after and is not an invalid request.
    emu.control.restFault({ path: '/users/@me', status: 429, retryAfter: 0.3, scope: 'shared' })
    const t = Date.now()
    expect((await c.rest.users.get(W.bot)).id).toBe(W.bot)
    expect((await c.rest.oauth.getCurrentUser()).id).toBe(W.bot)
    expect(Date.now() - t).toBeGreaterThanOrEqual(280)
    expect(emu.control.stats().invalidRequests).toBe(1)
  })

  it('adds a member with an OAuth token obtained through its own OAuth helpers', async () => {
    emu = await startTestEmulator()
    const { c } = makeClient()
    const redirectURI = 'http://127.0.0.1:5999/auth/callback'
    const authorize = new URL(`${emu.webUrl}/oauth2/authorize`)
    for (const [k, v] of Object.entries({
      client_id: emu.clientId,
      response_type: 'code',
      scope: 'identify guilds.join',
      redirect_uri: redirectURI,
      state: 's1',
      user_id: W.nonMember,
    })) {
      authorize.searchParams.set(k, v)
    }
    const redirect = await fetch(authorize, { redirect: 'manual' })
    const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!
    // Oceanic posts these forms as multipart/form-data.
    const auth = { clientID: emu.clientId, clientSecret: emu.clientSecret }
    const tokens = await c.rest.oauth.exchangeCode({ ...auth, code, redirectURI })
    expect(tokens.scopes).toEqual(['identify', 'guilds.join'])
    const refreshed = await c.rest.oauth.refreshToken({
      ...auth,
      refreshToken: tokens.refreshToken,
    })
    const me = await c.getOAuthHelper(`Bearer ${refreshed.accessToken}`).getCurrentUser()
    expect(me.id).toBe(W.nonMember)
    const added = await c.rest.guilds.addMember(W.guild, W.nonMember, {
      accessToken: refreshed.accessToken,
    })
    expect(added?.id).toBe(W.nonMember)
    // Already a member: 204, which Oceanic returns as undefined.
    expect(
      await c.rest.guilds.addMember(W.guild, W.nonMember, { accessToken: refreshed.accessToken }),
    ).toBeUndefined()
    await c.rest.oauth.revokeToken({ ...auth, token: refreshed.refreshToken })
    const revoked = await c
      .getOAuthHelper(`Bearer ${refreshed.accessToken}`)
      .getCurrentUser()
      .catch((e) => e)
    expect(revoked).toBeInstanceOf(Error)
    const owner = await c.rest.oauth.clientCredentialsGrant({ ...auth, scopes: ['identify'] })
    expect(owner.scopes).toEqual(['identify'])
  })

  it('reads the application flags to drop or name a privileged intent that is not enabled', async () => {
    const world = {
      ...DEFAULT_WORLD,
      application: { ...DEFAULT_WORLD.application, privilegedIntents: [] },
    }
    emu = await startTestEmulator({ world })
    const named = makeClient({ lookupDisallowedIntents: true, autoReconnect: false })
    await named.c.connect()
    await waitFor(() => named.seen.errors.find((e) => /disallowed intents/i.test(e.message)))
    expect(named.seen.errors.map((e) => e.message).join('\n')).toMatch(
      /You are missing: GUILD_MEMBERS/,
    )
    named.c.disconnect(false)
    emu.control.setApplication({ privilegedIntents: ['GUILD_MEMBERS'] })
    const app = await named.c.rest.applications.getCurrent()
    expect(app.flags & (1 << 15)).toBe(1 << 15) // GATEWAY_GUILD_MEMBERS_LIMITED
    emu.control.setApplication({ privilegedIntents: [] })
    const { c } = await connect({ removeDisallowedIntents: true })
    expect(c.shards.options.intents).toBe(131 & ~2)
    expect(c.guilds.has(W.guild)).toBe(true)
  })

  it('shards by GET /gateway/bot: each guild arrives on the shard that owns it', async () => {
    emu = await startTestEmulator({
      heartbeatIntervalMs: 300,
      guildsPerShard: 3,
      maxConcurrency: 2,
    })
    for (const name of ['Two', 'Three', 'Four', 'Five']) {
      emu.control.createGuild({ name: `Table ${name}`, ownerId: W.owner, members: [W.memberA] })
    }
    const { c, seen } = await connect({ maxShards: 'auto', concurrency: 'auto' })
    await waitFor(() => c.guilds.size === 5, 10_000, 'five guilds')
    expect(c.shards.size).toBe(2)
    for (const g of emu.control.state().guilds) {
      expect(c.guildShardMap.get(g.id)).toBe(shardOf(g.id, 2))
    }
    const readies = seen.packets.filter((p) => p.t === 'READY')
    expect(readies.map((p) => (p.d as { shard: number[] }).shard).sort()).toEqual([
      [0, 2],
      [1, 2],
    ])
    expect(emu.control.stats().identifies).toBe(2)
    expect(seen.errors).toEqual([])
  })
})
