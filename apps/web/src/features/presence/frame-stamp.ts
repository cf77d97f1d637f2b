import { PROTOCOL_VERSION, type RoomEventFrame } from '@repo/discord-integration/contracts'
import type { RoomFrameBody } from '../../server/ports'

/**
 * The JSON of a frame without its seq: `{"v":1,"room":…,"ts":…,…body}`. The Redis bus's
 * script prepends `"seq":N,` once it has assigned the seq, so the frame is serialised once.
 */
export function unstampedJson(roomId: string, body: RoomFrameBody, ts: number): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, room: roomId, ts, ...body })
}

/** The frame object: `body` stamped with v, room, ts and seq. */
export function stampFrame(
  roomId: string,
  body: RoomFrameBody,
  ts: number,
  seq: number,
): RoomEventFrame {
  return { ...body, v: PROTOCOL_VERSION, room: roomId, ts, seq } as RoomEventFrame
}
