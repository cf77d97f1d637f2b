import { PROTOCOL_VERSION, type RoomEventFrame } from '@repo/discord-integration/contracts'
import type { RoomFrameBody } from '../../server/ports'

/**
 * The JSON of a frame without its seq: `{"v":1,"room":…,"ts":…,…body}`.
 * Stamping prepends `"seq":N,` so a frame is serialised once, even when the seq is
 * assigned elsewhere (inside Redis).
 */
export function unstampedJson(roomId: string, body: RoomFrameBody, ts: number): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, room: roomId, ts, ...body })
}

/** Inserts the seq into an unstamped frame's JSON. */
export function stampJson(unstamped: string, seq: number): string {
  return `{"seq":${seq},${unstamped.slice(1)}`
}

/** The frame object matching `stampJson(unstampedJson(roomId, body, ts), seq)`. */
export function stampFrame(
  roomId: string,
  body: RoomFrameBody,
  ts: number,
  seq: number,
): RoomEventFrame {
  return { ...body, v: PROTOCOL_VERSION, room: roomId, ts, seq } as RoomEventFrame
}
