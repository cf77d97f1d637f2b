import { MAX_PLAYERS, type RoomRole } from '@repo/discord-integration/contracts'
import { useNavigate } from '@tanstack/react-router'
import type { LiveRoom } from '../../features/presence/live-room'
import { closeRoom, leaveRoom } from '../../features/rooms/rooms.functions'
import { useAction } from '../../ui/use-action'

const ROLE_TEXT: Record<RoomRole, string> = {
  host: 'You are the host',
  player: 'You are a player',
  spectator: 'You are watching',
}

/** The room's name and live summary (seats taken, who you are, lock, spectators) and its exits. */
export function RoomHeader({ live }: { live: LiveRoom }) {
  const watching = live.spectators.length
  return (
    <header className="room-header">
      <div>
        <p className="eyebrow">
          Private room
          {live.locked && <span className="tag locked">Locked</span>}
        </p>
        <h1>{live.name}</h1>
        <p className="muted" data-testid="room-summary">
          {live.players.length} of {MAX_PLAYERS} seats taken ·{' '}
          {live.role ? ROLE_TEXT[live.role] : 'You are no longer in this room'}
          {watching > 0 && ` · ${watching} watching`}
        </p>
      </div>
      {live.role && <ExitButtons roomId={live.id} role={live.role} />}
    </header>
  )
}

/**
 * Leaving: a player or the host leaves (a deliberate leave frees the seat at once; the host's
 * room goes to the longest-seated player who is here), the host may close the room for everyone,
 * a spectator stops watching. Then home.
 */
function ExitButtons({ roomId, role }: { roomId: string; role: RoomRole }) {
  const navigate = useNavigate()
  const leave = useAction(() => leaveRoom({ data: { roomId } }))
  const close = useAction(() => closeRoom({ data: { roomId } }))
  const error = leave.error ?? close.error
  return (
    <div className="stack end">
      <div className="row">
        <button
          type="button"
          className="button subtle"
          disabled={leave.disabled || close.disabled}
          onClick={async () => {
            if (await leave.run()) await navigate({ to: '/' })
          }}
        >
          {role === 'spectator' ? 'Stop watching' : 'Leave room'}
        </button>
        {role === 'host' && (
          <button
            type="button"
            className="button danger"
            disabled={leave.disabled || close.disabled}
            onClick={async () => {
              if (!window.confirm('Close this room for everyone and delete its voice channel?')) {
                return
              }
              if (await close.run()) await navigate({ to: '/' })
            }}
          >
            Close room
          </button>
        )}
      </div>
      {error && (
        <p role="alert" className="error-text">
          {error.message}
        </p>
      )}
    </div>
  )
}
