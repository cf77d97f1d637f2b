import {
  PROTOCOL_VERSION,
  type ServerFrame,
  type VoiceMember,
  type WsErrorCode,
} from '@repo/discord-integration/contracts'
import type { RoomAccess } from '../../server/ports'

/**
 * The frames the presence service writes itself, each literal checked against the wire contract
 * (contracts/presence-protocol.ts). Room stream frames are not built here: the event bus stamps
 * them (frame-stamp.ts) and serialises each once for every recipient.
 */

/** The server frame of one `type`. */
export type ServerFrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>

/** An error about the socket (`room` null) or about one room; seq is always 0. */
export function errorFrame(room: string | null, code: WsErrorCode, message: string, ts: number) {
  return {
    v: PROTOCOL_VERSION,
    type: 'error',
    room,
    seq: 0,
    ts,
    code,
    message,
  } satisfies ServerFrameOf<'error'>
}

/** The answer to a client `ping`, echoing its id when it had one. */
export function pongFrame(id: number | undefined, ts: number) {
  return {
    v: PROTOCOL_VERSION,
    type: 'pong',
    room: null,
    seq: 0,
    ts,
    ...(id === undefined ? {} : { id }),
  } satisfies ServerFrameOf<'pong'>
}

/**
 * The answer to a `subscribe`: recovered, the frames after `seq` (the client's `since`) follow;
 * not recovered, a snapshot at `seq` follows.
 */
export function subscribedFrame(
  room: string,
  seq: number,
  ts: number,
  recovered: boolean,
  epoch: string,
) {
  return {
    v: PROTOCOL_VERSION,
    type: 'subscribed',
    room,
    seq,
    ts,
    recovered,
    epoch,
  } satisfies ServerFrameOf<'subscribed'>
}

/** The room's voice members and state at stream position `seq`. */
export function snapshotFrame(
  room: string,
  seq: number,
  ts: number,
  epoch: string,
  access: RoomAccess,
  members: VoiceMember[],
) {
  return {
    v: PROTOCOL_VERSION,
    type: 'presence.snapshot',
    room,
    seq,
    ts,
    channelId: access.channelId,
    members,
    state: access.state,
    epoch,
  } satisfies ServerFrameOf<'presence.snapshot'>
}
