import { Avatar } from './Avatar'
import { displayName, type LiveRoom } from './live-room'
import { VoiceFlags } from './presence-badges'

/** Who is in the room's voice channel (spectators tagged), with mute, deafen, camera and stream. */
export function VoiceMemberList({ live }: { live: LiveRoom }) {
  const spectatorIds = new Set(live.spectators.map((s) => s.userId))
  return (
    <>
      <h3 className="members-title">In voice ({live.members.length})</h3>
      {live.members.length === 0 ? (
        <p className="muted">
          {live.live ? 'Nobody is in the voice channel.' : 'Waiting for live presence…'}
        </p>
      ) : (
        <ul className="voice-members" aria-label="Voice channel members">
          {live.members.map((m) => (
            <li key={m.userId} className="voice-member" data-testid={`voice-member-${m.userId}`}>
              <Avatar userId={m.userId} avatar={m.avatar} name={displayName(m)} />
              <span className="member-name">
                {displayName(m)}
                {spectatorIds.has(m.userId) && <span className="tag">spectator</span>}
              </span>
              <VoiceFlags member={m} />
            </li>
          ))}
        </ul>
      )}
    </>
  )
}
