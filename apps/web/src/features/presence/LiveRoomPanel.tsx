import type { Player, RoomView, ServerFrame, Spectator } from '@repo/discord-integration/contracts'
import { useNavigate } from '@tanstack/react-router'
import { type ReactNode, useCallback, useEffect, useState } from 'react'
import type { LiveRoom } from './live-room'
import { ClosingWarning, ServerRemovedNotice, StoppedNotice } from './RoomNotices'
import { useSignInWhenSessionLost, useStoppedBy } from './room-page-session'
import { SeatList } from './SeatList'
import { SpectatorList } from './SpectatorList'
import { useVoiceChannelEvents } from './use-presence'
import { VoiceDropoutModal } from './VoiceDropoutModal'
import { VoiceMemberList } from './VoiceMemberList'
import './presence.css'

export { SERVER_REMOVED_MESSAGE, ServerRemovedNotice } from './RoomNotices'

/** How long a room page closed by the bot's removal from its server says so before going home. */
const SERVER_REMOVED_NOTICE_MS = 4000

/** Props of {@link LiveRoomPanel}. */
export interface LiveRoomPanelProps {
  /** The room as the page loaded it (its channel and voice link). */
  room: RoomView
  /** The one live state of the room (useLiveRoom): everything shown comes from it. */
  live: LiveRoom
  selfUserId: string
  renderSeatActions?: (player: Player) => ReactNode
  renderSpectatorActions?: (spectator: Spectator) => ReactNode
  /** "Leave game" in the dropout dialog. @defaultValue navigate home */
  onLeaveGame?: () => void
}

/**
 * The live part of a room page: the four seats (who sits, who has the page open, who dropped and
 * how long their seat is held, who is in voice), the spectators apart, the voice member list
 * (mute, deafen, camera, stream), a live/reconnecting indicator, the closing warning, and the
 * dialog shown when the current user drops out of voice. Returns home when the room is deleted.
 */
export function LiveRoomPanel({
  room,
  live,
  selfUserId,
  renderSeatActions,
  renderSpectatorActions,
  onLeaveGame,
}: LiveRoomPanelProps) {
  const navigate = useNavigate()
  const [droppedOut, setDroppedOut] = useState(false)

  const onFrame = useCallback(
    (frame: ServerFrame) => {
      if (
        frame.type === 'voice.left' &&
        frame.userId === selfUserId &&
        frame.channelId === room.channelId
      ) {
        setDroppedOut(true)
      } else if (frame.type === 'voice.joined' && frame.member.userId === selfUserId) {
        setDroppedOut(false)
      } else if (frame.type === 'room.deleted' && frame.reason !== 'guild_removed') {
        void navigate({ to: '/' })
      }
    },
    [selfUserId, room.channelId, navigate],
  )
  useVoiceChannelEvents(room.id, onFrame)
  const stoppedBy = useStoppedBy(live.connection)
  useSignInWhenSessionLost(live.live, stoppedBy)
  const serverRemoved = live.deletedReason === 'guild_removed'
  useEffect(() => {
    if (!live.deleted) return
    if (!serverRemoved) {
      void navigate({ to: '/' })
      return
    }
    // The page says why first; home says it again.
    const timer = setTimeout(
      () => void navigate({ to: '/', search: { closed: 'guild_removed' } }),
      SERVER_REMOVED_NOTICE_MS,
    )
    return () => clearTimeout(timer)
  }, [live.deleted, serverRemoved, navigate])

  const inVoice = new Map(live.members.map((m) => [m.userId, m]))

  return (
    <div className="live-room">
      <div className="live-room-bar">
        <span
          className={live.live ? 'live-indicator live' : 'live-indicator reconnecting'}
          data-testid="live-indicator"
          role="status"
        >
          {live.live ? 'Live' : stoppedBy !== null ? 'Disconnected' : 'Reconnecting…'}
        </span>
      </div>
      {serverRemoved && <ServerRemovedNotice />}
      {stoppedBy !== null && <StoppedNotice code={stoppedBy} />}
      {live.closesAt !== null && <ClosingWarning closesAt={live.closesAt} />}
      {live.forbidden && (
        <p role="alert" className="error-text">
          You are no longer in this room.
        </p>
      )}
      <SeatList
        live={live}
        inVoice={inVoice}
        selfUserId={selfUserId}
        renderSeatActions={renderSeatActions}
      />
      <SpectatorList
        live={live}
        inVoice={inVoice}
        selfUserId={selfUserId}
        renderSpectatorActions={renderSpectatorActions}
      />
      <VoiceMemberList live={live} />
      <VoiceDropoutModal
        open={droppedOut}
        voiceJoinUrl={room.voiceJoinUrl}
        onLeaveGame={() => {
          setDroppedOut(false)
          if (onLeaveGame) onLeaveGame()
          else void navigate({ to: '/' })
        }}
      />
    </div>
  )
}
