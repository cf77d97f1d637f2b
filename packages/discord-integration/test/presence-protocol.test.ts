import { describe, expect, it } from 'vitest'
import {
  CLOSE_POLICY,
  ClientFrameSchema,
  closePolicy,
  PresenceCloseCode,
  ServerFrameSchema,
} from '../src/contracts'

describe('presence protocol contract', () => {
  it('accepts a subscribe frame with since and rejects a wrong version', () => {
    expect(
      ClientFrameSchema.safeParse({ v: 1, type: 'subscribe', room: 'abcdefghij', since: 3 })
        .success,
    ).toBe(true)
    expect(
      ClientFrameSchema.safeParse({ v: 2, type: 'subscribe', room: 'abcdefghij' }).success,
    ).toBe(false)
    expect(ClientFrameSchema.safeParse({ v: 1, type: 'subscribe', room: '../etc' }).success).toBe(
      false,
    )
  })

  it('requires v, room, seq and ts on room frames', () => {
    const frame = {
      v: 1,
      type: 'room.deleted',
      room: 'abcdefghij',
      seq: 7,
      ts: 1,
      reason: 'closed',
    }
    expect(ServerFrameSchema.safeParse(frame).success).toBe(true)
    const { seq: _seq, ...withoutSeq } = frame
    expect(ServerFrameSchema.safeParse(withoutSeq).success).toBe(false)
  })

  it('has a policy for every close code and reconnects on unknown ones', () => {
    for (const code of Object.values(PresenceCloseCode)) {
      expect(['reconnect', 'resync', 'stop']).toContain(CLOSE_POLICY[code])
    }
    expect(closePolicy(PresenceCloseCode.SlowConsumer)).toBe('resync')
    expect(closePolicy(PresenceCloseCode.Unauthenticated)).toBe('stop')
    expect(closePolicy(1006)).toBe('reconnect')
    // the transport's refusal of an oversized frame: sending it again would be refused again
    expect(closePolicy(1009)).toBe('stop')
  })
})
