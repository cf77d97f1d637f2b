import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import { VoiceEventSchema } from '@repo/discord-integration/contracts'
import { describe, expect, it } from 'vitest'
import { applyVoiceEvent } from '../src/voice/voice-mirror'
import type { VoiceStoreState } from '../src/voice/voice-state-reducer'
import { applyDispatch, createVoiceStoreState, reduce } from '../src/voice/voice-state-reducer'
import {
  channelDelete,
  GUILD,
  guildCreate,
  memberRemove,
  OTHER_GUILD,
  ready,
  voiceState,
  vsu,
} from './support/dispatch'

const A = '200000000000000001'
const B = '200000000000000002'
const C1 = '300000000000000001'
const C2 = '300000000000000002'

function run(state: VoiceStoreState, ...payloads: Parameters<typeof reduce>[1]['payload'][]) {
  const events: VoiceEvent[] = []
  let current = state
  for (const payload of payloads) {
    const result = reduce(current, { payload, receivedAt: 1000 })
    current = result.state
    events.push(...result.events)
  }
  for (const event of events) VoiceEventSchema.parse(event)
  return { state: current, events }
}

function seeded() {
  return run(
    createVoiceStoreState(GUILD),
    ready(1, 's1'),
    guildCreate(2, [voiceState(A, C1, {}, 'alice')]),
  )
}

describe('voice state reducer', () => {
  it('seeds from GUILD_CREATE voice_states with display data from members (member.user)', () => {
    const { state, events } = seeded()
    expect(state.synced).toBe(true)
    expect(state.seq).toBe(2)
    expect(state.sessionId).toBe('s1')
    const alice = state.members.get(A)
    expect(alice).toMatchObject({ channelId: C1, username: 'alice', globalName: 'Global alice' })
    expect(events.map((e) => [e.type, e.feedSeq])).toEqual([['voice.joined', 1]])
  })

  it('emits a leave with reason left when channel_id is null', () => {
    const { state, events } = run(seeded().state, vsu(3, voiceState(A, null, {}, 'alice')))
    expect(state.members.size).toBe(0)
    expect(events).toMatchObject([
      { type: 'voice.left', userId: A, channelId: C1, reason: 'left', feedSeq: 2 },
    ])
  })

  it('turns a move into leave (moved) + join', () => {
    const { state, events } = run(seeded().state, vsu(3, voiceState(A, C2, {}, 'alice')))
    expect(state.members.get(A)?.channelId).toBe(C2)
    expect(events).toMatchObject([
      { type: 'voice.left', channelId: C1, reason: 'moved', feedSeq: 2 },
      { type: 'voice.joined', channelId: C2, feedSeq: 3, member: { username: 'alice' } },
    ])
  })

  it('reports a mute as voice.updated with the changed flags, never as a join', () => {
    const { events } = run(
      seeded().state,
      vsu(3, voiceState(A, C1, { selfMute: true, selfVideo: true }, 'alice')),
    )
    expect(events).toMatchObject([{ type: 'voice.updated', changed: ['selfMute', 'selfVideo'] }])
  })

  it('emits nothing when nothing reported changed', () => {
    const { events, state } = run(seeded().state, vsu(3, voiceState(A, C1, {}, 'alice')))
    expect(events).toEqual([])
    expect(state.seq).toBe(3)
  })

  it('drops duplicates: a dispatch with the same or an older sequence is ignored', () => {
    const first = run(seeded().state, vsu(3, voiceState(A, null)))
    const again = reduce(first.state, { payload: vsu(3, voiceState(A, C2)), receivedAt: 1 })
    expect(again.skipped).toBe('duplicate')
    expect(again.state).toBe(first.state)
    const older = reduce(first.state, { payload: vsu(2, voiceState(B, C2)), receivedAt: 1 })
    expect(older.events).toEqual([])
  })

  it('ignores dispatches for other guilds but advances the sequence', () => {
    const { state, events } = run(
      seeded().state,
      vsu(3, voiceState(B, C1), OTHER_GUILD),
      guildCreate(4, [], OTHER_GUILD),
    )
    expect(events).toEqual([])
    expect(state.members.size).toBe(1)
    expect(state.seq).toBe(4)
  })

  it('ends voice states on GUILD_MEMBER_REMOVE and CHANNEL_DELETE', () => {
    const base = run(seeded().state, vsu(3, voiceState(B, C2))).state
    const { state, events } = run(
      base,
      memberRemove(4, A),
      channelDelete(5, C2),
      vsu(6, voiceState(B, null)),
    )
    expect(state.members.size).toBe(0)
    expect(events).toMatchObject([
      { type: 'voice.left', userId: A, reason: 'member_removed' },
      { type: 'voice.left', userId: B, channelId: C2, reason: 'channel_deleted' },
    ])
  })

  it('reconciles a fresh READY + GUILD_CREATE: exactly the missed leaves (resync), joins and updates', () => {
    const base = run(seeded().state, vsu(3, voiceState(B, C2))).state
    const { state, events } = run(
      base,
      ready(1, 's2'),
      guildCreate(2, [voiceState(B, C2, { selfDeaf: true }), voiceState('200000000000000003', C1)]),
    )
    expect(state.sessionId).toBe('s2')
    expect(events).toMatchObject([
      { type: 'voice.left', userId: A, reason: 'resync', feedSeq: 3 },
      { type: 'voice.updated', userId: B, changed: ['selfDeaf'], feedSeq: 4 },
      { type: 'voice.joined', userId: '200000000000000003', feedSeq: 5 },
    ])
  })

  it('keeps display data from earlier events when a VSU has no member', () => {
    const { payload } = { payload: vsu(3, { ...voiceState(A, C2), member: undefined }) }
    const { state } = run(seeded().state, payload)
    expect(state.members.get(A)?.username).toBe('alice')
  })

  it('continues feedSeq from a persisted value', () => {
    const { events } = run(
      createVoiceStoreState(GUILD, 41),
      ready(1, 's'),
      guildCreate(2, [voiceState(A, C1)]),
    )
    expect(events[0]?.feedSeq).toBe(42)
  })

  it('events applied to a mirror equal the store', () => {
    const { state, events } = run(
      seeded().state,
      vsu(3, voiceState(B, C1)),
      vsu(4, voiceState(B, C2, { mute: true })),
      vsu(5, voiceState(A, null)),
    )
    const mirror = new Map<string, VoiceMember>()
    for (const e of [...seeded().events, ...events]) applyVoiceEvent(mirror, e)
    expect(mirror).toEqual(state.members)
  })

  it('reports the users whose stored profile a dispatch replaced (what a persisted copy must rewrite)', () => {
    const state = createVoiceStoreState(GUILD)
    const apply = (payload: Parameters<typeof reduce>[1]['payload']) =>
      applyDispatch(state, { payload, receivedAt: 1000 }).profilesChanged
    expect(apply(ready(1, 's1'))).toBeUndefined()
    expect(
      apply(guildCreate(2, [voiceState(A, C1, {}, 'alice'), voiceState(B, C1, {}, 'bob')])),
    ).toEqual([A, B])
    // the same display data again: nothing replaced
    expect(apply(vsu(3, voiceState(A, C1, { selfMute: true }, 'alice')))).toBeUndefined()
    expect(apply(vsu(4, voiceState(B, C1, {}, 'bobby')))).toEqual([B])
    expect(state.profiles.get(B)).toMatchObject({ username: 'bobby' })
    // other guilds never touch the store
    expect(apply(vsu(5, voiceState(A, C1, {}, 'mallory'), OTHER_GUILD))).toBeUndefined()
  })
})
