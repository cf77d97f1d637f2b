import type { PersistedGatewayV1 as PersistedGateway } from '../../src/session/persisted-gateway'
import { persistVoiceState } from '../../src/session/persisted-gateway'
import { createVoiceStoreState, reduce } from '../../src/voice/voice-state-reducer'
import { GUILD, guildCreate, ready, voiceState } from './dispatch'
import { member } from './reducer-feed'

/** A persisted value with one member in voice, at `seq`. */
export function sample(seq = 7): PersistedGateway {
  let state = createVoiceStoreState(GUILD)
  state = reduce(state, { payload: ready(1, 'sess'), receivedAt: 0 }).state
  state = reduce(state, {
    payload: guildCreate(seq, [voiceState('200000000000000001', '300000000000000001')]),
    receivedAt: 0,
  }).state
  return {
    v: 1,
    guildId: GUILD,
    savedAt: 1,
    session: {
      sessionId: 'sess',
      sequence: seq,
      resumeURL: 'ws://x/resume',
      shardId: 0,
      shardCount: 1,
    },
    voice: persistVoiceState(state),
  }
}

/** A value with `count` members in voice (and their profiles), as a large guild would save. */
export function large(count: number, seq = 9): PersistedGateway {
  const base = sample(seq)
  const members = Array.from({ length: count }, (_, i) =>
    member(String(200000000000000000n + BigInt(i)), `30000000000000000${i % 10}`, i % 3 === 0),
  )
  return {
    ...base,
    voice: {
      ...base.voice,
      members,
      profiles: members.map((m) => [
        m.userId,
        { username: m.username, globalName: m.globalName, avatar: m.avatar },
      ]),
    },
  }
}

/** A loaded value as version 1 (what sample() and large() save), or null. */
export function asV1(
  value: import('../../src/session/persisted-gateway').PersistedGateway | null,
): PersistedGateway | null {
  if (value !== null && value.v !== 1)
    throw new Error(`expected a version 1 value, got v${value.v}`)
  return value
}
