import type { ServerFrame } from '@repo/discord-integration/contracts'
import { useCallback, useEffect, useRef, useSyncExternalStore } from 'react'
import { getPresenceClient } from './presence-client'
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
export function useVoiceChannelMembersFromEvents(roomId: string): VoiceChannelMembersView {
  useEffect(() => getPresenceClient().retain(roomId), [roomId])
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
