import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import { VoiceEventSchema } from '@repo/discord-integration/contracts'
import { GatewayDispatchEvents } from 'discord-api-types/v10'
import { describe, expect, it } from 'vitest'
import { ChannelIndex } from '../src/voice/channel-index'
import { diffMembers } from '../src/voice/voice-diff'
import { applyVoiceEvent } from '../src/voice/voice-mirror'
import {
  applyDispatch,
  createVoiceStoreState,
  type VoiceStoreState,
} from '../src/voice/voice-state-reducer'
import { GUILD, guildCreate, memberUpdate, ready, voiceState, vsu } from './support/dispatch'

const A = '200000000000000001'
const B = '200000000000000002'
const C1 = '300000000000000001'

/** A store seeded with A in C1 (as 'alice'), its events applied to a mirror and an index. */
function seeded() {
  const state = createVoiceStoreState(GUILD)
  const mirror = new Map<string, VoiceMember>()
  const index = new ChannelIndex()
  const apply = (payload: Parameters<typeof applyDispatch>[1]['payload']): VoiceEvent[] => {
    const { events } = applyDispatch(state, { payload, receivedAt: 1000 })
    for (const event of events) {
      VoiceEventSchema.parse(event)
      applyVoiceEvent(mirror, event)
      index.apply(event)
    }
    return events
  }
  apply(ready(1, 's1'))
  apply(guildCreate(2, [voiceState(A, C1, {}, 'alice')]))
  return { state, mirror, index, apply }
}

const shown = (state: VoiceStoreState, userId: string) => state.members.get(userId)?.username

describe('profile changes in the voice feed', () => {
  it('a voice state with new display data and the same flags: profile.updated, the member takes it', () => {
    const { state, mirror, index, apply } = seeded()
    const events = apply(vsu(3, voiceState(A, C1, {}, 'alicia')))
    expect(events).toMatchObject([
      {
        type: 'profile.updated',
        userId: A,
        channelId: C1,
        feedSeq: 2,
        profile: { username: 'alicia', globalName: 'Global alicia' },
      },
    ])
    expect(shown(state, A)).toBe('alicia')
    // Every consumer of the events ends equal to the store (mirror, channel index).
    expect(mirror.get(A)).toEqual(state.members.get(A))
    expect(index.members(C1)).toEqual([state.members.get(A)])
  })

  it('an avatar change alone is a profile change too, from a voice state or GUILD_MEMBER_UPDATE', () => {
    const { state, mirror, apply } = seeded()
    const withAvatar = (avatar: string) => {
      const vs = voiceState(A, C1, {}, 'alice')
      return { ...vs, member: { ...vs.member!, user: { ...vs.member!.user, avatar } } }
    }
    expect(apply(vsu(3, withAvatar('a1b2c3')))).toMatchObject([
      { type: 'profile.updated', userId: A, channelId: C1, profile: { avatar: 'a1b2c3' } },
    ])
    expect(state.members.get(A)?.avatar).toBe('a1b2c3')
    expect(mirror.get(A)?.avatar).toBe('a1b2c3')
    const update = memberUpdate(4, A, 'alice') as { d: { user: { avatar: string | null } } }
    update.d.user.avatar = 'd4e5f6'
    expect(apply(update as Parameters<typeof apply>[0])).toMatchObject([
      { type: 'profile.updated', userId: A, channelId: C1, profile: { avatar: 'd4e5f6' } },
    ])
    expect(mirror.get(A)?.avatar).toBe('d4e5f6')
  })

  it('a rename together with a flag change: voice.updated with the new member, then profile.updated', () => {
    const { state, apply } = seeded()
    const events = apply(vsu(3, voiceState(A, C1, { selfMute: true }, 'alicia')))
    expect(events.map((e) => e.type)).toEqual(['voice.updated', 'profile.updated'])
    expect(events[0]).toMatchObject({ member: { username: 'alicia', selfMute: true } })
    expect(shown(state, A)).toBe('alicia')
  })

  it('a rename as the user leaves voice: the leave, then profile.updated without a channel', () => {
    const { apply } = seeded()
    const events = apply(vsu(3, voiceState(A, null, {}, 'alicia')))
    expect(events).toMatchObject([
      { type: 'voice.left', userId: A },
      { type: 'profile.updated', userId: A, channelId: null },
    ])
  })

  it('GUILD_MEMBER_UPDATE: news even for a user not seen yet; nothing when nothing changed', () => {
    const { state, apply } = seeded()
    // B was never in voice: the store has no profile for them, and this is their change.
    expect(apply(memberUpdate(3, B, 'bob'))).toMatchObject([
      { type: 'profile.updated', userId: B, channelId: null, profile: { username: 'bob' } },
    ])
    expect(apply(memberUpdate(4, B, 'bob'))).toEqual([])
    // A member in voice: their member follows.
    expect(apply(memberUpdate(5, A, 'al'))).toMatchObject([
      { type: 'profile.updated', userId: A, channelId: C1, profile: { username: 'al' } },
    ])
    expect(shown(state, A)).toBe('al')
  })

  it('GUILD_MEMBER_ADD of a user first seen is not news; of one known under another name it is', () => {
    const { apply } = seeded()
    const add = GatewayDispatchEvents.GuildMemberAdd
    expect(apply(memberUpdate(3, B, 'bob', add))).toEqual([])
    expect(apply(memberUpdate(4, A, 'alicia', add))).toMatchObject([
      { type: 'profile.updated', userId: A },
    ])
  })

  it('a fresh GUILD_CREATE reports the renames it reveals, not the users it first sees', () => {
    const { state, apply } = seeded()
    const events = apply(
      guildCreate(3, [voiceState(A, C1, {}, 'alicia'), voiceState(B, C1, {}, 'bob')]),
    )
    expect(events.map((e) => [e.type, e.userId])).toEqual([
      ['voice.joined', B],
      ['profile.updated', A],
    ])
    expect(shown(state, A)).toBe('alicia')
  })

  it('the hub mirror reports display changes it finds in a snapshot', () => {
    const before = new Map([[A, member(A, 'alice')]])
    const after = new Map([[A, member(A, 'alicia')]])
    expect(diffMembers(GUILD, before, after, 7, 1)).toMatchObject([
      { type: 'profile.updated', userId: A, channelId: C1, profile: { username: 'alicia' } },
    ])
    expect(diffMembers(GUILD, before, new Map(before), 7, 1)).toEqual([])
  })
})

function member(userId: string, username: string): VoiceMember {
  return {
    userId,
    channelId: C1,
    username,
    globalName: null,
    avatar: null,
    mute: false,
    deaf: false,
    selfMute: false,
    selfDeaf: false,
    selfVideo: false,
    selfStream: false,
    suppress: false,
  }
}
