import type { RoomState } from '@repo/discord-integration/contracts'
import type { BusFrame, ReplayFrame } from './event-bus'
import type { RoomSubscription } from './presence-socket'
import type { SocketRegistry } from './socket-registry.server'

/**
 * The hot path: one frame, already serialised, to every live subscription of a room, encoded to
 * UTF-8 once and written as the same bytes to each socket; subscriptions being set up buffer it.
 * Returns how many sockets were written to.
 */
export function fanOut(
  sockets: SocketRegistry,
  subs: Iterable<RoomSubscription>,
  busFrame: BusFrame,
): number {
  const { frame, text } = busFrame
  let bytes: Buffer | undefined
  let sent = 0
  for (const sub of subs) {
    if (sub.buffer) {
      sub.buffer.push(busFrame)
      continue
    }
    if (frame.seq <= sub.lastSeq) continue
    sub.lastSeq = frame.seq
    bytes ??= Buffer.from(text)
    if (sockets.write(sub.socket, bytes)) sent++
  }
  return sent
}

/**
 * A replayed or buffered frame: anything at or before the socket's position is skipped (the
 * replay and the subscribe-time buffer can overlap).
 */
export function sendInOrder(
  sockets: SocketRegistry,
  sub: RoomSubscription,
  frame: ReplayFrame,
  receivedAt?: number,
): void {
  if (frame.seq <= sub.lastSeq) return
  sub.lastSeq = frame.seq
  sockets.sendText(sub.socket, frame.text, frame.type, receivedAt)
}

/** Sends what was buffered during the setup, then lets live frames through. */
export function releaseBuffered(sockets: SocketRegistry, sub: RoomSubscription): void {
  const buffered = sub.buffer ?? []
  sub.buffer = null
  for (const { frame, text, epoch } of buffered) {
    // Frames of another life of the room stream (buffered across a restart) do not continue it.
    if (epoch !== sub.epoch) continue
    const receivedAt = 'receivedAt' in frame ? frame.receivedAt : undefined
    sendInOrder(sockets, sub, { seq: frame.seq, type: frame.type, text }, receivedAt)
  }
}

/** Who may follow the room's stream: its owner, players and spectators. */
export function roomAudience(state: RoomState): Set<string> {
  const allowed = new Set(state.players.map((p) => p.userId))
  allowed.add(state.ownerId)
  for (const spectator of state.spectators ?? []) allowed.add(spectator.userId)
  return allowed
}
