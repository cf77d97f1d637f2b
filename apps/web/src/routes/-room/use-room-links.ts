import type { RoomLinks, RoomView } from '@repo/discord-integration/contracts'
import { useEffect, useRef, useState } from 'react'
import { getRoomLinks } from '../../features/rooms/rooms.functions'

/** The links a player's page shows, as the loader had them. */
export function linksOf(room: RoomView): RoomLinks | null {
  if (!room.invite || room.code === null) return null
  return { invite: room.invite, code: room.code, watch: room.watch }
}

/**
 * The players' links (invite link, room code, watch link), kept current: fetched again whenever
 * the room's live `linksRev` moves past the one they were fetched at (the host rotated or made a
 * link, an expired one was renewed), or when a spectator on this page became a player. Spectators
 * never ask (the server would refuse them).
 */
export function useRoomLinks(
  room: RoomView,
  linksRev: number,
  isPlayer: boolean,
): [RoomLinks | null, (links: RoomLinks) => void] {
  const [links, setLinks] = useState<RoomLinks | null>(() => linksOf(room))
  const fetchedAt = useRef(room.linksRev)
  const missing = links === null
  useEffect(() => {
    // A spectator who took a seat (in another tab) has no links yet: fetch them then too.
    if (!isPlayer || (linksRev === fetchedAt.current && !missing)) return
    fetchedAt.current = linksRev
    let cancelled = false
    getRoomLinks({ data: { roomId: room.id } }).then(
      (fresh) => {
        if (!cancelled) setLinks(fresh)
      },
      () => {
        // No longer a player (the stream says so too), or offline: the next change retries.
        fetchedAt.current = -1
      },
    )
    return () => {
      cancelled = true
    }
  }, [room.id, linksRev, isPlayer, missing])
  return [links, setLinks]
}
