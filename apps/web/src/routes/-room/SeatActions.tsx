import type { Player, Spectator } from '@repo/discord-integration/contracts'
import { displayName } from '../../features/presence/live-room'
import {
  freeSeat,
  kickPlayer,
  removeSpectator,
  transferHost,
} from '../../features/rooms/rooms.functions'
import { useAction } from '../../ui/use-action'

/**
 * The host's controls on the table: per seat, hand the room over, kick, or free a dropped
 * player's seat before the grace ends; per spectator, remove them. Each button's accessible name
 * says whom it is for. A refusal (the host lost the room a moment ago) shows its message.
 */
export function useHostActions(roomId: string, selfUserId: string) {
  const kick = useAction((userId: string) => kickPlayer({ data: { roomId, userId } }))
  const handOver = useAction((userId: string) => transferHost({ data: { roomId, userId } }))
  const free = useAction((userId: string) => freeSeat({ data: { roomId, userId } }))
  const remove = useAction((userId: string) => removeSpectator({ data: { roomId, userId } }))
  const busy = kick.disabled || handOver.disabled || free.disabled || remove.disabled
  const error = kick.error ?? handOver.error ?? free.error ?? remove.error

  const seat = (player: Player) => {
    if (player.userId === selfUserId) return null
    const name = displayName(player)
    return (
      <span className="seat-actions">
        {player.heldUntil !== undefined && (
          <button
            type="button"
            className="button small"
            disabled={busy}
            onClick={() => free.run(player.userId)}
          >
            Free seat <span className="visually-hidden">of {name}</span>
          </button>
        )}
        <button
          type="button"
          className="button small"
          disabled={busy}
          onClick={() => handOver.run(player.userId)}
        >
          Make <span className="visually-hidden">{name}</span> host
        </button>
        <button
          type="button"
          className="button small danger"
          disabled={busy}
          onClick={() => kick.run(player.userId)}
        >
          Kick <span className="visually-hidden">{name}</span>
        </button>
      </span>
    )
  }

  const spectator = (s: Spectator) => (
    <button
      type="button"
      className="button small danger"
      disabled={busy}
      onClick={() => remove.run(s.userId)}
    >
      Remove <span className="visually-hidden">spectator {displayName(s)}</span>
    </button>
  )

  return { seat, spectator, error }
}
