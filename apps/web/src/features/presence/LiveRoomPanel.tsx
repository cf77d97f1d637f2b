import type { Player, RoomView } from '@repo/discord-integration/contracts'
import type { ReactNode } from 'react'

/** Props of {@link LiveRoomPanel}. */
export interface LiveRoomPanelProps {
  room: RoomView
  selfUserId: string
  renderSeatActions?: (player: Player) => ReactNode
}

/** The live voice panel of a room page (placeholder until the presence client lands). */
export function LiveRoomPanel({ room, renderSeatActions }: LiveRoomPanelProps) {
  return (
    <section className="live-room" aria-label="Voice">
      <ul className="seats">
        {room.players.map((player) => (
          <li key={player.userId}>
            {player.globalName ?? player.username}
            {renderSeatActions?.(player)}
          </li>
        ))}
      </ul>
    </section>
  )
}
