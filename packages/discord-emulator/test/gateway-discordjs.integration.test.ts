import { Client, Events, GatewayIntentBits, type VoiceState } from 'discord.js'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_WORLD, type Emulator } from '../src/index.ts'
import { startTestEmulator, W, waitFor } from './support/helpers.ts'

const intents = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMembers,
  GatewayIntentBits.GuildVoiceStates,
]

describe('discord.js 14 Client against the emulator', () => {
  let emu: Emulator
  let client: Client | null = null
  afterEach(async () => {
    await client?.destroy()
    client = null
    await emu.close()
  })

  async function login(options: { identifyIntervalMs?: number } = {}) {
    emu = await startTestEmulator({ heartbeatIntervalMs: 300, ...options })
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby, selfVideo: true })
    client = new Client({ intents, rest: { api: emu.restBase } })
    const ready = new Promise<void>((resolve) => client!.once(Events.ClientReady, () => resolve()))
    await client.login(emu.botToken)
    await ready
    return client
  }

  it('logs in and caches the guild, its channels and voice states', async () => {
    const c = await login()
    const guild = c.guilds.cache.get(W.guild)!
    expect(guild.name).toBe(DEFAULT_WORLD.guild.name)
    expect(guild.channels.cache.get(W.lobby)?.name).toBe('Lobby')
    const vs = guild.voiceStates.cache.get(W.memberA)
    expect(vs?.channelId).toBe(W.lobby)
    expect(vs?.selfVideo).toBe(true)
    expect(c.user?.id).toBe(W.bot)
  })

  it('emits voiceStateUpdate for joins, moves and leaves', async () => {
    const c = await login()
    const seen: [string | null, string | null][] = []
    c.on(Events.VoiceStateUpdate, (before: VoiceState, after: VoiceState) => {
      if (after.id === W.memberB) seen.push([before.channelId, after.channelId])
    })
    emu.control.setVoice({ userId: W.memberB, channelId: W.lobby })
    emu.control.setVoice({ userId: W.memberB, channelId: W.table2 })
    emu.control.setVoice({ userId: W.memberB, channelId: null })
    await waitFor(() => seen.length === 3)
    expect(seen).toEqual([
      [null, W.lobby],
      [W.lobby, W.table2],
      [W.table2, null],
    ])
  })

  it('resumes after a dropped connection and replays missed voice updates', async () => {
    const c = await login()
    const replayed: number[] = []
    c.on(Events.ShardResume, (_id, count) => replayed.push(count))
    const joined: string[] = []
    c.on(Events.VoiceStateUpdate, (_b, after) => {
      if (after.channelId) joined.push(after.id)
    })
    emu.control.closeGateway(1006)
    await waitFor(() => emu.control.stats().activeSessions === 0)
    emu.control.setVoice({ userId: W.memberB, channelId: W.lobby })
    emu.control.setVoice({ userId: W.memberC, channelId: W.lobby })
    await waitFor(() => replayed.length === 1, 8000, 'shardResume')
    await waitFor(() => joined.length === 2)
    expect(joined).toEqual([W.memberB, W.memberC])
    expect(replayed[0]).toBeGreaterThanOrEqual(2)
    expect(emu.control.stats().identifies).toBe(1)
  })

  it('moves a member through REST (member.voice.setChannel) and sees the update', async () => {
    const c = await login()
    const guild = c.guilds.cache.get(W.guild)!
    const member = await guild.members.fetch(W.memberA)
    await member.voice.setChannel(W.table2)
    await waitFor(() => guild.voiceStates.cache.get(W.memberA)?.channelId === W.table2)
    const created = await guild.channels.create({
      name: 'Game 1',
      type: 2,
      userLimit: 4,
      parent: W.category,
    })
    expect(created.parentId).toBe(W.category)
    await waitFor(() => guild.channels.cache.has(created.id))
    await created.delete()
    await waitFor(() => !guild.channels.cache.has(created.id))
  })

  it('rejects login on a bad token (4004 / 401)', async () => {
    emu = await startTestEmulator()
    client = new Client({ intents, rest: { api: emu.restBase } })
    await expect(client.login(`${emu.botToken.slice(0, -2)}zz`)).rejects.toThrow()
    expect(emu.control.stats().identifies).toBe(0)
  })

  it('rejects login with disallowed intents (4014)', async () => {
    const world = {
      ...DEFAULT_WORLD,
      application: { ...DEFAULT_WORLD.application, privilegedIntents: [] },
    }
    emu = await startTestEmulator({ world })
    client = new Client({ intents, rest: { api: emu.restBase } })
    await expect(client.login(emu.botToken)).rejects.toThrow(/disallowed intents/i)
  })
})
