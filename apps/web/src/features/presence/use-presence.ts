import type { RoomSummary, RoomView, ServerFrame } from '@repo/discord-integration/contracts'
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import { type LiveRoom, liveRoom } from './live-room'
import { getPresenceClient, type RoomMode } from './presence-client'
import type { ConnectionStatus } from './presence-machine'
import { EMPTY_STREAM, type RoomStream } from './room-stream'

const noop = () => {}
const inBrowser = typeof window !== 'undefined'
const disconnected = (): ConnectionStatus => 'disconnected'
const emptyStream = () => EMPTY_STREAM
const subscribeStatus = (listener: () => void) =>
  inBrowser ? getPresenceClient().subscribeStatus(listener) : noop
const getStatus = () => (inBrowser ? getPresenceClient().status : 'disconnected')

/** The shared client's connection status (`disconnected` during SSR). */
export function usePresenceStatus(): ConnectionStatus {
  return useSyncExternalStore(subscribeStatus, getStatus, disconnected)
}

/**
 * Calls `onFrame` with every frame of the room's stream (snapshot, voice and room frames) as it
 * arrives, keeping the room subscribed while mounted. The listener is removed on unmount, and
 * the latest `onFrame` is always used without resubscribing.
 */
export function useVoiceChannelEvents(roomId: string, onFrame: (frame: ServerFrame) => void): void {
  const latest = useRef(onFrame)
  useEffect(() => {
    latest.current = onFrame
  })
  useEffect(() => {
    const client = getPresenceClient()
    const off = client.onFrame(roomId, (frame) => latest.current(frame))
    const release = client.retain(roomId)
    return () => {
      off()
      release()
    }
  }, [roomId])
}

/** The room's live stream view: members in voice, room state, and whether it is live. */
export interface VoiceChannelMembersView {
  stream: RoomStream
  status: ConnectionStatus
  /** Connected and the room's stream is in sync. */
  live: boolean
}

/**
 * The members in the room's voice channel, built from the presence stream (snapshot + events)
 * with useSyncExternalStore. Safe under StrictMode: the page shares one socket.
 */
export function useVoiceChannelMembersFromEvents(
  roomId: string,
  mode: RoomMode = 'page',
): VoiceChannelMembersView {
  useEffect(() => getPresenceClient().retain(roomId, mode), [roomId, mode])
  const subscribe = useCallback(
    (listener: () => void) =>
      inBrowser ? getPresenceClient().subscribeStream(roomId, listener) : noop,
    [roomId],
  )
  const getStream = useCallback(
    () => (inBrowser ? getPresenceClient().getStream(roomId) : EMPTY_STREAM),
    [roomId],
  )
  const stream = useSyncExternalStore(subscribe, getStream, emptyStream)
  const status = usePresenceStatus()
  return { stream, status, live: status === 'connected' && stream.synced }
}

const noRooms = () => null
const subscribeRoomsList = (listener: () => void) =>
  inBrowser ? getPresenceClient().subscribeRoomsList(listener) : noop
const getRoomsList = () => (inBrowser ? getPresenceClient().getRoomsList() : null)

/**
 * The signed-in user's own rooms (hosted or seated), live: the server's `rooms.list` as soon as
 * it comes (it follows creations, closings, joins and leaves on any node), null until then.
 */
export function useMyRooms(): readonly RoomSummary[] | null {
  useEffect(() => getPresenceClient().followRooms(), [])
  return useSyncExternalStore(subscribeRoomsList, getRoomsList, noRooms)
}

/** The current time, updated every `everyMs` (for countdowns). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs)
    return () => clearInterval(timer)
  }, [everyMs])
  return now
}

/**
 * The one client-side state of a room page (see live-room.ts): its page subscription's stream
 * over the loader's room, for the signed-in user.
 */
export function useLiveRoom(initial: RoomView, userId: string): LiveRoom {
  const { stream, status } = useVoiceChannelMembersFromEvents(initial.id)
  return useMemo(() => liveRoom(initial, stream, status, userId), [initial, stream, status, userId])
}
