import { MAX_PLAYERS, type Player, type VoiceMember } from '@repo/discord-integration/contracts'
import type { ReactNode } from 'react'
import { Avatar } from './Avatar'
import { displayName, type LiveRoom } from './live-room'
import { HeldFor, PageBadge, VoiceBadge } from './presence-badges'

/**
 * The four seats: who sits (host, you), whether their page is open or how long a dropped player's
 * seat is held, whether they are in voice, and the host's actions on each.
 */
export function SeatList({
  live,
  inVoice,
  selfUserId,
  renderSeatActions,
}: {
  live: LiveRoom
  inVoice: ReadonlyMap<string, VoiceMember>
  selfUserId: string
  renderSeatActions?: ((player: Player) => ReactNode) | undefined
}) {
  const seats = Array.from({ length: MAX_PLAYERS }, (_, i) => live.players[i] ?? null)
  return (
    <ol className="seats" aria-label="Seats">
      {seats.map((player, i) =>
        player ? (
          <li
            key={player.userId}
            className={player.heldUntil === undefined ? 'seat' : 'seat dropped'}
            data-testid={`seat-${player.userId}`}
          >
            <Avatar userId={player.userId} avatar={player.avatar} name={displayName(player)} />
            <span className="seat-main">
              <span className="seat-name">
                {displayName(player)}
                {player.userId === live.ownerId && <span className="tag">host</span>}
                {player.userId === selfUserId && <span className="tag">you</span>}
              </span>
              <span className="seat-presence">
                {player.heldUntil !== undefined ? (
                  <HeldFor until={player.heldUntil} />
                ) : (
                  <PageBadge open={live.viewers?.has(player.userId)} />
                )}
                <VoiceBadge member={inVoice.get(player.userId)} />
              </span>
            </span>
            {renderSeatActions?.(player)}
          </li>
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: empty seats have no other identity
          <li key={`empty-${i}`} className="seat empty">
            <span className="seat-name muted">Empty seat</span>
          </li>
        ),
      )}
    </ol>
  )
}
