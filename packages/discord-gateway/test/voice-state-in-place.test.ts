import { describe, expect, it } from 'vitest'
import { persistVoiceState, restoreVoiceState } from '../src/session/persisted-gateway'
import { ChannelIndex } from '../src/voice/channel-index'
import {
  applyDispatch,
  createVoiceStateReducer,
  createVoiceStoreState,
  reduce,
} from '../src/voice/voice-state-reducer'
import { GUILD, guildCreate, ready, voiceState, vsu } from './support/dispatch'
import { member } from './support/reducer-feed'

const user = (i: number) => `2${String(i).padStart(17, '0')}`
const channel = (i: number) => `3${String(i).padStart(17, '0')}`

/** A guild with `n` users in voice, four per channel. */
function bigGuild(n: number) {
  const state = createVoiceStoreState(GUILD)
  applyDispatch(state, { payload: ready(1, 's'), receivedAt: 0 })
  const states = Array.from({ length: n }, (_, i) => voiceState(user(i), channel(i >> 2)))
  applyDispatch(state, { payload: guildCreate(2, states), receivedAt: 0 })
  return state
}

describe('voice state applied in place', () => {
  it('a voice state update writes only the entries it touches: the maps are never copied', () => {
    const state = bigGuild(2000)
    const { members, profiles } = state
    const untouched = members.get(user(1))
    const r = applyDispatch(state, {
      payload: vsu(3, voiceState(user(0), channel(0), { selfMute: true })),
      receivedAt: 5,
    })
    expect(r.changed).toBe(true)
    expect(r.events).toMatchObject([
      { type: 'voice.updated', changed: ['selfMute'], feedSeq: 2001 },
    ])
    expect(state.members).toBe(members)
    expect(state.profiles).toBe(profiles)
    expect(state.members.get(user(1))).toBe(untouched)
    expect(state.members.get(user(0))?.selfMute).toBe(true)
    expect(state.seq).toBe(3)
  })

  it('keeps a stored profile while the user data repeats, and replaces it when it changes', () => {
    const state = bigGuild(4)
    const profile = state.profiles.get(user(0))
    applyDispatch(state, {
      payload: vsu(3, voiceState(user(0), channel(0), { selfMute: true })),
      receivedAt: 5,
    })
    expect(state.profiles.get(user(0))).toBe(profile)
    expect(state.members.get(user(0))).toMatchObject({
      selfMute: true,
      username: profile?.username,
    })

    const r = applyDispatch(state, {
      payload: vsu(4, voiceState(user(0), channel(0), { selfMute: true }, 'renamed')),
      receivedAt: 6,
    })
    expect(state.profiles.get(user(0))).not.toBe(profile)
    expect(state.profiles.get(user(0))?.username).toBe('renamed')
    // A new name alone is no voice change, but a profile change: the member in voice takes it at
    // once and profile.updated says so (issue 21: names live on every page).
    expect(r.events).toMatchObject([
      { type: 'profile.updated', userId: user(0), channelId: channel(0) },
    ])
    expect(state.members.get(user(0))).toMatchObject({ selfMute: true, username: 'renamed' })
    applyDispatch(state, {
      payload: vsu(5, voiceState(user(0), channel(0), {}, 'renamed')),
      receivedAt: 7,
    })
    expect(state.members.get(user(0))).toMatchObject({ selfMute: false, username: 'renamed' })
  })

  it('reports duplicates as unchanged and leaves the state alone', () => {
    const state = bigGuild(4)
    const r = applyDispatch(state, { payload: vsu(2, voiceState(user(0), null)), receivedAt: 0 })
    expect(r).toMatchObject({ changed: false, skipped: 'duplicate', events: [] })
    expect(state.members.size).toBe(4)
    expect(state.seq).toBe(2)
  })

  it('reduce stays pure: the given state is untouched, an unchanged result is the same object', () => {
    const state = bigGuild(4)
    const before = persistVoiceState(state)
    const next = reduce(state, { payload: vsu(3, voiceState(user(0), null)), receivedAt: 0 })
    expect(persistVoiceState(state)).toEqual(before)
    expect(next.state.members.has(user(0))).toBe(false)
    expect(
      reduce(next.state, { payload: vsu(3, voiceState(user(1), null)), receivedAt: 0 }).state,
    ).toBe(next.state)
  })

  it('a persisted copy taken before later dispatches keeps the {state, sequence} it was taken at', () => {
    const state = bigGuild(8)
    const saved = persistVoiceState(state)
    const frozen = structuredClone(saved)
    applyDispatch(state, { payload: vsu(3, voiceState(user(0), null)), receivedAt: 0 })
    applyDispatch(state, { payload: vsu(4, voiceState(user(1), channel(9))), receivedAt: 0 })
    expect(saved).toEqual(frozen)
    expect(saved.seq).toBe(2)
    expect(saved.members).toHaveLength(8)
    const restored = restoreVoiceState(GUILD, saved)
    expect(restored.seq).toBe(2)
    expect(restored.members.get(user(0))?.channelId).toBe(channel(0))
  })

  it('the stateful reducer updates its state object in place', () => {
    const reducer = createVoiceStateReducer(createVoiceStoreState(GUILD))
    const initial = reducer.state
    reducer.apply({ payload: ready(1, 's'), receivedAt: 0 })
    const events = reducer.apply({
      payload: guildCreate(2, [voiceState(user(0), channel(0))]),
      receivedAt: 0,
    })
    expect(events.map((e) => e.type)).toEqual(['voice.joined'])
    expect(reducer.state).toBe(initial)
    expect(reducer.state.synced).toBe(true)
  })
})

describe('channel index', () => {
  it('groups by channel, sorted by user id, and follows joins, moves and leaves', () => {
    const index = ChannelIndex.of([member(user(2), channel(1)), member(user(1), channel(1))])
    expect(index.members(channel(1)).map((m) => m.userId)).toEqual([user(1), user(2)])
    const base = { v: 1 as const, guildId: GUILD, feedSeq: 1, receivedAt: 0 }
    // a move reported as an update still leaves the old channel
    index.apply({
      ...base,
      type: 'voice.updated',
      userId: user(2),
      channelId: channel(2),
      member: member(user(2), channel(2)),
      changed: [],
    })
    expect(index.members(channel(1)).map((m) => m.userId)).toEqual([user(1)])
    expect(index.members(channel(2)).map((m) => m.userId)).toEqual([user(2)])
    // a late leave for a channel the user is no longer in changes nothing
    index.apply({
      ...base,
      type: 'voice.left',
      userId: user(2),
      channelId: channel(1),
      reason: 'left',
    })
    expect(index.members(channel(2))).toHaveLength(1)
    index.apply({
      ...base,
      type: 'voice.left',
      userId: user(2),
      channelId: channel(2),
      reason: 'left',
    })
    expect(index.members(channel(2))).toEqual([])
    expect(index.channels).toBe(1)
    expect(index.members(channel(7))).toEqual([])
  })
})
