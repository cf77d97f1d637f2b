import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { VoiceReadApi } from '../../src/voice/voice-mirror'
import { sortMembers } from '../../src/voice/voice-mirror'
import { createVoiceStoreState, reduce } from '../../src/voice/voice-state-reducer'
import { GUILD, guildCreate, ready, voiceState, vsu } from './dispatch'

/** A voice member with every flag off, for tests. */
export function member(userId: string, channelId: string, selfMute = false): VoiceMember {
  return {
    userId,
    channelId,
    username: 'u',
    globalName: null,
    avatar: null,
    mute: false,
    deaf: false,
    selfMute,
    selfDeaf: false,
    selfVideo: false,
    selfStream: false,
    suppress: false,
  }
}

/** An in-memory feed driven by the real reducer: push dispatches, read it like a VoiceFeed. */
export function reducerFeed() {
  let state = createVoiceStoreState(GUILD)
  const listeners = new Set<(e: VoiceEvent) => void>()
  let s = 0
  const push = (payload: Parameters<typeof reduce>[1]['payload']) => {
    const r = reduce(state, { payload, receivedAt: 1 })
    state = r.state
    for (const e of r.events) for (const l of listeners) l(e)
  }
  const feed: VoiceReadApi = {
    snapshot: () => ({
      guildId: GUILD,
      feedSeq: state.feedSeq,
      members: sortMembers(state.members.values()),
    }),
    channelMembers: () => [],
    memberChannel: () => null,
    subscribe: (l) => {
      listeners.add(l)
      return () => listeners.delete(l)
    },
  }
  return {
    feed,
    ready: () => push(ready(++s, 's')),
    create: (states: ReturnType<typeof voiceState>[]) => push(guildCreate(++s, states)),
    vsu: (userId: string, channelId: string | null, selfMute = false) =>
      push(vsu(++s, voiceState(userId, channelId, { selfMute }))),
    members: () => state.members,
  }
}
