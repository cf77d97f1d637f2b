import {
  PROTOCOL_VERSION,
  type Profile,
  type RoomSummary,
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
  viewers?: readonly string[],
) {
  return {
    v: PROTOCOL_VERSION,
    type: 'subscribed',
    room,
    seq,
    ts,
    recovered,
    epoch,
    ...(viewers === undefined ? {} : { viewers: [...viewers] }),
  } satisfies ServerFrameOf<'subscribed'>
}

/** The room's voice members and state at stream position `seq` (and who has its page open). */
export function snapshotFrame(
  room: string,
  seq: number,
  ts: number,
  epoch: string,
  access: RoomAccess,
  members: VoiceMember[],
  viewers?: readonly string[],
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
    ...(viewers === undefined ? {} : { viewers: [...viewers] }),
  } satisfies ServerFrameOf<'presence.snapshot'>
}

/** Who has the room page open now (unnumbered: not part of the room stream). */
export function viewersFrame(room: string, ts: number, viewers: readonly string[]) {
  return {
    v: PROTOCOL_VERSION,
    type: 'room.viewers',
    room,
    seq: 0,
    ts,
    viewers: [...viewers],
  } satisfies ServerFrameOf<'room.viewers'>
}

/** A user's new display data, for a room where they sit, watch or are in voice (unnumbered). */
export function profileFrame(room: string, ts: number, userId: string, profile: Profile) {
  return {
    v: PROTOCOL_VERSION,
    type: 'profile.updated',
    room,
    seq: 0,
    ts,
    userId,
    profile,
  } satisfies ServerFrameOf<'profile.updated'>
}

/** The caller's rooms (the answer to rooms.follow, and every change after it). */
export function roomsListFrame(ts: number, rooms: RoomSummary[]) {
  return {
    v: PROTOCOL_VERSION,
    type: 'rooms.list',
    room: null,
    seq: 0,
    ts,
    rooms,
  } satisfies ServerFrameOf<'rooms.list'>
}
