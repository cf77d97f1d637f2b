import type { Spectator, VoiceMember } from '@repo/discord-integration/contracts'
import type { ReactNode } from 'react'
import { Avatar } from './Avatar'
import { displayName, type LiveRoom } from './live-room'
import { PageBadge, VoiceBadge } from './presence-badges'

/** The spectators, apart from the seats: page open, listening in voice, the host's actions. */
export function SpectatorList({
  live,
  inVoice,
  selfUserId,
  renderSpectatorActions,
}: {
  live: LiveRoom
  inVoice: ReadonlyMap<string, VoiceMember>
  selfUserId: string
  renderSpectatorActions?: ((spectator: Spectator) => ReactNode) | undefined
}) {
  return (
    <>
      <h3 className="members-title">Spectators ({live.spectators.length})</h3>
      {live.spectators.length === 0 ? (
        <p className="muted">Nobody is watching.</p>
      ) : (
        <ul className="spectators" aria-label="Spectators">
          {live.spectators.map((s) => (
            <li key={s.userId} className="spectator" data-testid={`spectator-${s.userId}`}>
              <Avatar userId={s.userId} avatar={s.avatar} name={displayName(s)} />
              <span className="seat-main">
                <span className="seat-name">
                  {displayName(s)}
                  {s.userId === selfUserId && <span className="tag">you</span>}
                </span>
                <span className="seat-presence">
                  <PageBadge open={live.viewers?.has(s.userId)} />
                  <VoiceBadge member={inVoice.get(s.userId)} listenOnly />
                </span>
              </span>
              {renderSpectatorActions?.(s)}
            </li>
          ))}
        </ul>
      )}
    </>
  )
}
