import type { ServerFrame } from '@repo/discord-integration/contracts'
import { describe, expect, it } from 'vitest'
import {
  applyFrame,
  EMPTY_STREAM,
  type RoomStream,
  unsynced,
} from '../../src/features/presence/room-stream'
import { member, roomState, sf } from './fixtures'

const ROOM = 'room_alpha_0001'
const CH = sf(900)
const base = { v: 1 as const, room: ROOM, ts: 1 }

function apply(stream: RoomStream, ...frames: ServerFrame[]) {
  let s = stream
  let gap = false
  for (const f of frames) {
    const r = applyFrame(s, f)
    s = r.stream
    gap ||= r.gap
  }
  return { stream: s, gap }
}

const snapshot = (seq: number, ids: string[]): ServerFrame => ({
  ...base,
  type: 'presence.snapshot',
  seq,
  channelId: CH,
  members: ids.map((id) => member(id, CH)),
  state: roomState(sf(1), [sf(1)]),
  epoch: 'e1',
})
const joined = (seq: number, id: string): ServerFrame => ({
  ...base,
  type: 'voice.joined',
  seq,
  member: member(id, CH),
  receivedAt: 1,
})
const left = (seq: number, id: string): ServerFrame => ({
  ...base,
  type: 'voice.left',
  seq,
  userId: id,
  channelId: CH,
  reason: 'left',
  receivedAt: 1,
})

describe('room stream', () => {
  it('starts from a snapshot and applies only frames above its seq', () => {
    const { stream } = apply(
      EMPTY_STREAM,
      snapshot(5, [sf(2)]),
      joined(5, sf(3)),
      joined(6, sf(4)),
      left(7, sf(2)),
    )
    expect(stream.members.map((m) => m.userId)).toEqual([sf(4)])
    expect(stream).toMatchObject({ seq: 7, epoch: 'e1', synced: true, channelId: CH })
  })

  it('ignores duplicates and treats joins of present members as upserts', () => {
    const { stream } = apply(EMPTY_STREAM, snapshot(1, [sf(2)]), joined(2, sf(2)), joined(2, sf(3)))
    expect(stream.members.map((m) => m.userId)).toEqual([sf(2)])
    expect(stream.seq).toBe(2)
  })

  it('reports a gap instead of applying across it', () => {
    const start = apply(EMPTY_STREAM, snapshot(1, [])).stream
    const r = applyFrame(start, joined(3, sf(5)))
    expect(r.gap).toBe(true)
    expect(r.stream).toBe(start)
  })

  it('waits for the snapshot after subscribed{recovered:false}, and continues after a recovered resume', () => {
    const synced = apply(EMPTY_STREAM, snapshot(1, [sf(2)])).stream
    const waiting = apply(unsynced(synced), {
      ...base,
      type: 'subscribed',
      seq: 1,
      recovered: false,
      epoch: 'e2',
    }).stream
    expect(waiting.synced).toBe(false)
    expect(applyFrame(waiting, joined(2, sf(3))).stream).toBe(waiting)
    const resumed = apply(
      unsynced(synced),
      { ...base, type: 'subscribed', seq: 1, recovered: true, epoch: 'e1' },
      joined(2, sf(3)),
    )
    expect(resumed.stream.members.map((m) => m.userId)).toEqual([sf(2), sf(3)])
  })

  it('tracks room state, the closing warning, deletion and refusals', () => {
    let s = apply(EMPTY_STREAM, snapshot(0, [])).stream
    s = apply(s, { ...base, type: 'room.closing', seq: 1, closesAt: 99 }).stream
    expect(s.closesAt).toBe(99)
    s = apply(s, {
      ...base,
      type: 'room.updated',
      seq: 2,
      state: roomState(sf(1), [sf(1), sf(2)]),
    }).stream
    expect(s.state?.players).toHaveLength(2)
    expect(s.closesAt).toBeNull()
    const removed = apply(s, { ...base, type: 'room.deleted', seq: 3, reason: 'guild_removed' })
    expect(removed.stream).toMatchObject({ deleted: true, deletedReason: 'guild_removed' })
    s = apply(s, { ...base, type: 'room.deleted', seq: 3, reason: 'inactive' }).stream
    expect(s.deleted).toBe(true)
    expect(s.deletedReason).toBe('inactive')
    const refused = apply(EMPTY_STREAM, {
      v: 1,
      type: 'error',
      room: ROOM,
      seq: 0,
      ts: 1,
      code: 'FORBIDDEN',
      message: 'no',
    })
    expect(refused.stream.forbidden).toBe(true)
  })
})
