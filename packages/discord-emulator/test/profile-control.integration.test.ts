import { GatewayDispatchEvents as E } from 'discord-api-types/v10'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Emulator, EmulatorState } from '../src/index.ts'
import { startTestEmulator, W } from './support/helpers.ts'
import { gatewayUrl, RawGateway } from './support/raw-gateway.ts'

/** GUILDS | GUILD_MEMBERS | GUILD_VOICE_STATES, and the same without GUILD_MEMBERS. */
const WITH_MEMBERS = 131
const WITHOUT_MEMBERS = 129
const AVATAR = '0123456789abcdef0123456789abcdef'

describe('control API: a user changes their profile', () => {
  let emu: Emulator
  beforeEach(async () => {
    emu = await startTestEmulator({ identifyIntervalMs: 0 })
  })
  afterEach(async () => {
    await emu.close()
  })
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${emu.webUrl}/_emulator${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }
  const user = async (id: string) =>
    ((await (await fetch(`${emu.webUrl}/_emulator/state`)).json()) as EmulatorState).users.find(
      (u) => u.id === id,
    )
  const connect = async (intents: number) => {
    const gw = await RawGateway.open(gatewayUrl(emu.webUrl))
    gw.identify(emu.botToken, intents)
    await gw.next((f) => f.op === 0 && f.t === E.GuildCreate)
    return gw
  }
  const dispatchesAfter = (gw: RawGateway, mark: number) =>
    gw.frames.slice(mark).filter((f) => f.op === 0)

  it('in voice: GUILD_MEMBER_UPDATE, then a VOICE_STATE_UPDATE whose member carries the new profile', async () => {
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby, selfMute: true })
    const gw = await connect(WITH_MEMBERS)
    const mark = gw.frames.length
    const answer = await post('/users/profile', {
      userId: W.memberA,
      globalName: 'Tamsin the Bold',
      avatar: AVATAR,
    })
    expect(answer.status).toBe(200)
    await gw.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate)
    const [update, voice] = dispatchesAfter(gw, mark)
    expect(update).toMatchObject({
      t: E.GuildMemberUpdate,
      d: {
        guild_id: W.guild,
        user: { id: W.memberA, global_name: 'Tamsin the Bold', avatar: AVATAR },
      },
    })
    expect(voice).toMatchObject({
      t: E.VoiceStateUpdate,
      d: {
        user_id: W.memberA,
        channel_id: W.lobby,
        self_mute: true,
        member: { user: { id: W.memberA, global_name: 'Tamsin the Bold', avatar: AVATAR } },
      },
    })
    expect(await user(W.memberA)).toMatchObject({ globalName: 'Tamsin the Bold', avatar: AVATAR })
    gw.close()
  })

  it('without the GUILD_MEMBERS intent only the voice state tells; out of voice nothing does', async () => {
    emu.control.setVoice({ userId: W.memberA, channelId: W.lobby })
    const gw = await connect(WITHOUT_MEMBERS)
    let mark = gw.frames.length
    await post('/users/profile', { userId: W.memberA, username: 'tamsin.renamed' })
    await gw.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate)
    expect(dispatchesAfter(gw, mark).map((f) => f.t)).toEqual([E.VoiceStateUpdate])
    mark = gw.frames.length
    await post('/users/profile', { userId: W.memberB, globalName: null })
    await post('/voice', { userId: W.memberC, channelId: W.lobby }) // a marker dispatch
    await gw.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate && f.d.user_id === W.memberC)
    expect(dispatchesAfter(gw, mark).map((f) => f.t)).toEqual([E.VoiceStateUpdate])
    expect(await user(W.memberB)).toMatchObject({ globalName: null })
    gw.close()
  })

  it('a user who is not a guild member changes without any dispatch', async () => {
    const gw = await connect(WITH_MEMBERS)
    const mark = gw.frames.length
    await post('/users/profile', { userId: W.nonMember, globalName: 'Elsewhere' })
    await post('/voice', { userId: W.memberC, channelId: W.lobby })
    await gw.next((f) => f.op === 0 && f.t === E.VoiceStateUpdate)
    expect(dispatchesAfter(gw, mark).map((f) => f.t)).toEqual([E.VoiceStateUpdate])
    expect(await user(W.nonMember)).toMatchObject({ globalName: 'Elsewhere' })
    gw.close()
  })

  it('refuses a body that changes nothing or holds a bad value (400), an unknown user (404)', async () => {
    expect((await post('/users/profile', { userId: W.memberA })).status).toBe(400)
    expect((await post('/users/profile', { userId: W.memberA, avatar: 'nope' })).status).toBe(400)
    expect((await post('/users/profile', { userId: W.memberA, username: 'A B' })).status).toBe(400)
    expect((await post('/users/profile', { userId: W.memberA, globalName: '' })).status).toBe(400)
    const unknown = await post('/users/profile', { userId: '123456789012345678', globalName: 'x' })
    expect(unknown.status).toBe(404)
  })
})
