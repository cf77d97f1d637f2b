import type { RoomLinks } from '@repo/discord-integration/contracts'
import type { LiveRoom } from '../../features/presence/live-room'
import {
  revokeWatchLink,
  rotateInvite,
  rotateWatchLink,
  setRoomLocked,
} from '../../features/rooms/rooms.functions'
import { useAction } from '../../ui/use-action'
import { CopyField } from './copy-field'
import { linksOf } from './use-room-links'

const until = (at: number) => `Valid until ${new Date(at).toLocaleString()}.`

/**
 * The players' card: the invite link and the room code (both seat a player: 24 h, rotated
 * together), and the watch link for spectators. The host also rotates them, locks the room and
 * makes or revokes the watch link. Spectators never get this card (nor the links).
 */
export function InviteCard({
  live,
  links,
  isHost,
  onLinks,
}: {
  live: LiveRoom
  links: RoomLinks | null
  isHost: boolean
  onLinks: (links: RoomLinks) => void
}) {
  const roomId = live.id
  const rotate = useAction(() => rotateInvite({ data: { roomId } }))
  const lock = useAction((locked: boolean) => setRoomLocked({ data: { roomId, locked } }))
  const watch = useAction(() => rotateWatchLink({ data: { roomId } }))
  const revoke = useAction(() => revokeWatchLink({ data: { roomId } }))
  const error = rotate.error ?? lock.error ?? watch.error ?? revoke.error
  return (
    <section className="card" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite players</h2>
      {live.locked && (
        <p className="notice" data-testid="locked-notice">
          Locked: nobody new can join by link or code until the host unlocks the room.
        </p>
      )}
      {links ? (
        <>
          <CopyField
            label="Invite link"
            value={links.invite.url}
            copyLabel="Copy invite link"
            testId="invite-link"
          />
          <CopyField
            label="Room code"
            value={links.code}
            copyLabel="Copy room code"
            testId="room-code"
            wide={false}
          />
          <p className="muted">
            {until(links.invite.expiresAt)} Players can also type the code on the home page.
          </p>
        </>
      ) : (
        <p className="muted">Loading the invite link…</p>
      )}
      {isHost && (
        <div className="row wrap">
          <button
            type="button"
            className="button subtle"
            disabled={rotate.disabled}
            onClick={async () => {
              const next = await rotate.run()
              const fresh = next && linksOf(next)
              if (fresh) onLinks(fresh)
            }}
          >
            New invite link
          </button>
          <button
            type="button"
            className="button subtle"
            disabled={lock.disabled}
            onClick={() => lock.run(!live.locked)}
          >
            {live.locked ? 'Unlock room' : 'Lock room'}
          </button>
        </div>
      )}
      <h3 className="card-subtitle">Spectators</h3>
      {links?.watch ? (
        <>
          <CopyField
            label="Watch link"
            value={links.watch.url}
            copyLabel="Copy watch link"
            testId="watch-link"
          />
          <p className="muted">
            {until(links.watch.expiresAt)} Spectators see the table and listen in voice, without a
            seat, a microphone or a camera.
          </p>
        </>
      ) : (
        <p className="muted">
          {isHost
            ? 'Make a watch link to let up to eight spectators follow the game.'
            : 'No watch link yet: the host can make one.'}
        </p>
      )}
      {isHost && (
        <div className="row wrap">
          <button
            type="button"
            className="button subtle"
            disabled={watch.disabled}
            onClick={async () => {
              const next = await watch.run()
              if (next) onLinks(next)
            }}
          >
            {links?.watch ? 'New watch link' : 'Create watch link'}
          </button>
          {links?.watch && (
            <button
              type="button"
              className="button subtle danger"
              disabled={revoke.disabled}
              onClick={async () => {
                const next = await revoke.run()
                if (next) onLinks(next)
              }}
            >
              Revoke watch link
            </button>
          )}
        </div>
      )}
      {error && (
        <p role="alert" className="error-text">
          {error.message}
        </p>
      )}
    </section>
  )
}
