import { GatewayDispatchEvents as E } from 'discord-api-types/v10'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import { recordingManager, startTestEmulator, W, waitFor } from './support/helpers.ts'

describe('@discordjs/ws WebSocketManager against the emulator', () => {
  let emu: Emulator
  let rec: ReturnType<typeof recordingManager>

  beforeEach(async () => {
    emu = await startTestEmulator({ heartbeatIntervalMs: 300, identifyIntervalMs: 0 })
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    rec = recordingManager(emu)
    await rec.manager.connect()
    await waitFor(() => rec.of(E.GuildCreate).length === 1, 5000, 'GUILD_CREATE')
  })
  afterEach(async () => {
    await rec.manager.destroy()
    await emu.close()
  })

  it('gets READY then GUILD_CREATE with channels, roles, members and voice_states', () => {
    const ready = rec.of(E.Ready)[0]!
    expect(ready.d.user.id).toBe(W.bot)
    expect(ready.d.guilds).toEqual([{ id: W.guild, unavailable: true }])
    // A bare origin on its own port, like Discord's session-specific gateway hosts.
    expect(ready.d.resume_gateway_url).toBe(emu.resumeGatewayUrl)
    expect(emu.resumeGatewayUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    expect(emu.resumeGatewayUrl).not.toBe(emu.gatewayUrl)
    expect(ready.s).toBe(1)
    const guild = rec.of(E.GuildCreate)[0]!
    expect(guild.s).toBe(2)
    expect(guild.d.voice_states).toEqual([
      expect.objectContaining({ user_id: W.memberA, channel_id: W.lobby }),
    ])
    expect(guild.d.voice_states?.[0]).not.toHaveProperty('guild_id')
    expect(guild.d.channels.map((c) => c.id)).toEqual(expect.arrayContaining([W.lobby, W.table2]))
    expect(guild.d.roles.map((r) => r.id)).toContain(W.guild)
    expect(guild.d.members.map((m) => m.user.id).sort()).toEqual([W.bot, W.memberA].sort())
  })

  it('sees joins, moves and leaves as VOICE_STATE_UPDATE in order', async () => {
    emu.control.setVoice({ userId: W.memberB, channelId: W.lobby })
    emu.control.setVoice({ userId: W.memberB, channelId: W.table2 })
    emu.control.setVoice({ userId: W.memberB, channelId: null })
    const vsus = await waitFor(() => {
      const list = rec.of(E.VoiceStateUpdate)
      return list.length === 3 && list
    })
    expect(vsus.map((v) => v.d.channel_id)).toEqual([W.lobby, W.table2, null])
    expect(vsus.every((v) => v.d.user_id === W.memberB && v.d.guild_id === W.guild)).toBe(true)
    expect(vsus[0]!.d.member?.user.id).toBe(W.memberB)
    const seqs = rec.dispatches.map((d) => d.s)
    expect(seqs).toEqual(seqs.map((_, i) => i + 1))
  })

  async function expectResumeWithReplay(trigger: () => void, whileDown?: () => void) {
    const identifies = emu.control.stats().identifies
    trigger()
    await waitFor(() => emu.control.stats().activeSessions === 0, 5000, 'disconnect')
    whileDown?.()
    emu.control.setVoice({ userId: W.memberB, channelId: W.lobby })
    emu.control.setVoice({ userId: W.memberC, channelId: W.table2 })
    await waitFor(() => rec.resumed === 1, 8000, 'RESUMED')
    const vsus = rec.of(E.VoiceStateUpdate)
    expect(vsus.map((v) => v.d.user_id)).toEqual([W.memberB, W.memberC])
    const types = rec.dispatches.map((d) => d.t)
    expect(types.slice(-3)).toEqual([E.VoiceStateUpdate, E.VoiceStateUpdate, E.Resumed])
    const seqs = rec.dispatches.map((d) => d.s)
    expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    expect(emu.control.stats().identifies).toBe(identifies)
    expect(emu.control.stats().resumes).toBe(1)
    // The resume went to READY's resume_gateway_url.
    expect(emu.control.stats().resumeOriginConnections).toBe(1)
  }

  it('resumes after close 4000 and replays the missed events', async () => {
    await expectResumeWithReplay(() => emu.control.closeGateway(4000))
  })

  it('resumes after a dropped TCP connection (1006)', async () => {
    await expectResumeWithReplay(() => emu.control.closeGateway(1006))
  })

  it('resumes after op 7 RECONNECT', async () => {
    await expectResumeWithReplay(() => emu.control.reconnect())
  })

  it('resumes after a zombied connection (heartbeat ACKs withheld)', async () => {
    await expectResumeWithReplay(
      () => emu.control.setHeartbeatAcks(false),
      () => emu.control.setHeartbeatAcks(true),
    )
  })

  it('re-identifies after op 9 (not resumable) and gets a fresh GUILD_CREATE', async () => {
    emu.control.invalidate(false)
    await waitFor(() => rec.readies === 2, 10_000, 'second READY')
    expect(emu.control.stats().identifies).toBe(2)
    expect(rec.of(E.GuildCreate)).toHaveLength(2)
  })

  it('re-identifies after a gateway restart (resume impossible)', async () => {
    emu.control.restart()
    emu.control.setVoice({ userId: W.memberB, channelId: W.lobby })
    await waitFor(() => rec.readies === 2, 10_000, 'second READY')
    expect(emu.control.stats().resumes).toBe(0)
    const latest = rec.of(E.GuildCreate)[1]!
    expect(latest.d.voice_states?.map((v) => v.user_id).sort()).toEqual(
      [W.memberA, W.memberB].sort(),
    )
  })
})

describe('@discordjs/ws fatal close codes', () => {
  it('stops on 4004 (bad token)', async () => {
    const emu = await startTestEmulator()
    const bad = `${emu.botToken.slice(0, -3)}xyz`
    const rec = recordingManager(emu, { gatewayToken: bad, restToken: bad })
    // GET /gateway/bot with a bad token is already a 401, so connect() rejects before the socket.
    await expect(rec.manager.connect()).rejects.toThrow()
    await rec.manager.destroy()
    await emu.close()
  })

  it('stops on 4004 when the token is rejected at IDENTIFY', async () => {
    const emu = await startTestEmulator()
    const rec = recordingManager(emu, { gatewayToken: `${emu.botToken.slice(0, -3)}xyz` })
    // The REST client still has the good token, so only the gateway sees the bad one.
    await rec.manager.connect().catch(() => {})
    await waitFor(() => rec.closes.includes(4004), 5000, 'close 4004')
    await new Promise((r) => setTimeout(r, 1200))
    expect(emu.control.stats().connections).toBe(0)
    expect(emu.control.stats().identifies).toBe(0)
    await rec.manager.destroy()
    await emu.close()
  })

  it('stops on 4014 when GUILD_MEMBERS is not enabled for the application', async () => {
    const { DEFAULT_WORLD } = await import('../src/index.ts')
    const world = {
      ...DEFAULT_WORLD,
      application: { ...DEFAULT_WORLD.application, privilegedIntents: [] },
    }
    const emu = await startTestEmulator({ world })
    const rec = recordingManager(emu)
    await rec.manager.connect().catch(() => {})
    await waitFor(() => rec.closes.includes(4014), 5000, 'close 4014')
    await new Promise((r) => setTimeout(r, 1200))
    expect(emu.control.stats().connections).toBe(0)
    expect(rec.closes.filter((c) => c === 4014)).toHaveLength(1)
    await rec.manager.destroy()
    await emu.close()
  })
})
