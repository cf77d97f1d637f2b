import {
  MAX_PLAYERS,
  type Player,
  PresenceCloseCode,
  type RoomView,
  type ServerFrame,
  type Spectator,
  type VoiceMember,
} from '@repo/discord-integration/contracts'
import { useNavigate } from '@tanstack/react-router'
import { type ReactNode, useCallback, useEffect, useState } from 'react'
import { loginUrl } from '../../lib/return-to'
import { displayName, type LiveRoom } from './live-room'
import { getPresenceClient } from './presence-client'
import { useNow, useVoiceChannelEvents } from './use-presence'
import { VoiceDropoutModal } from './VoiceDropoutModal'
import { CameraIcon, DeafenedIcon, MutedIcon, StreamIcon } from './voice-icons'
import './presence.css'

/** How long a room page closed by the bot's removal from its server says so before going home. */
const SERVER_REMOVED_NOTICE_MS = 4000

/** What a room page, and then home, say when the bot was removed from the room's Discord server. */
export const SERVER_REMOVED_MESSAGE =
  'This room is closed: the bot was removed from its Discord server, so its voice channel is out of reach.'

/** The room closed because the bot was removed from its server (room.deleted `guild_removed`). */
export function ServerRemovedNotice() {
  return (
    <div role="alert" className="stopped-notice" data-testid="server-removed-notice">
      <p>{SERVER_REMOVED_MESSAGE}</p>
    </div>
  )
}

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
  const spectatorIds = new Set(live.spectators.map((s) => s.userId))
  const seats = Array.from({ length: MAX_PLAYERS }, (_, i) => live.players[i] ?? null)

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

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean)
  const letters =
    parts.length > 1 ? `${parts[0]?.[0] ?? ''}${parts[1]?.[0] ?? ''}` : name.slice(0, 2)
  return letters.toUpperCase()
}

function Avatar({ userId, avatar, name }: { userId: string; avatar: string | null; name: string }) {
  const [failed, setFailed] = useState<string | null>(null)
  if (!avatar || failed === avatar) {
    return (
      <span className="avatar initials" aria-hidden="true">
        {initials(name)}
      </span>
    )
  }
  return (
    <img
      className="avatar"
      src={`https://cdn.discordapp.com/avatars/${userId}/${avatar}.png?size=64`}
      alt=""
      width={32}
      height={32}
      onError={() => setFailed(avatar)}
    />
  )
}

/** "Who is here": whether the player has the room page open (unknown until the stream says). */
function PageBadge({ open }: { open: boolean | undefined }) {
  if (open === undefined) return null
  return (
    <span className={open ? 'page-badge open' : 'page-badge closed'}>
      {open ? 'Page open' : 'Page closed'}
    </span>
  )
}

/** A dropped player's seat, and how long it is still theirs (m:ss). */
function HeldFor({ until }: { until: number }) {
  const now = useNow()
  const left = Math.max(0, Math.ceil((until - now) / 1000))
  const text =
    left > 0
      ? `Dropped, seat held for ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`
      : 'Dropped, seat held until someone is back'
  return <span className="seat-dropped">{text}</span>
}

function VoiceBadge({
  member,
  listenOnly = false,
}: {
  member: VoiceMember | undefined
  listenOnly?: boolean
}) {
  if (!member) return <span className="voice-badge out">Not in voice</span>
  return (
    <span className="voice-badge in">
      {listenOnly ? 'Listening' : 'In voice'} <VoiceFlags member={member} />
    </span>
  )
}

/** Mute, deafen, camera and stream icons, each with an accessible label. */
function VoiceFlags({ member }: { member: VoiceMember }) {
  const flags: { key: string; label: string; icon: ReactNode }[] = []
  if (member.selfDeaf || member.deaf)
    flags.push({ key: 'deaf', label: 'Deafened', icon: <DeafenedIcon /> })
  else if (member.selfMute || member.mute)
    flags.push({ key: 'mute', label: 'Muted', icon: <MutedIcon /> })
  if (member.selfVideo) flags.push({ key: 'video', label: 'Camera on', icon: <CameraIcon /> })
  if (member.selfStream) flags.push({ key: 'stream', label: 'Streaming', icon: <StreamIcon /> })
  return (
    <span className="voice-flags">
      {flags.map((f) => (
        <span
          key={f.key}
          className={`flag flag-${f.key}`}
          role="img"
          aria-label={f.label}
          title={f.label}
        >
          {f.icon}
        </span>
      ))}
    </span>
  )
}

function ClosingWarning({ closesAt }: { closesAt: number }) {
  const now = useNow()
  const seconds = Math.max(0, Math.ceil((closesAt - now) / 1000))
  return (
    <div role="alert" className="closing-warning" data-testid="closing-warning">
      Nobody is in voice: this room closes in {seconds} s. Join the voice channel to keep it open.
    </div>
  )
}

/** The close code that stopped the page's presence connection for good, or null. */
function useStoppedBy(status: string): number | null {
  const [code, setCode] = useState<number | null>(null)
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-read when the status changes
  useEffect(() => {
    setCode(getPresenceClient().stoppedBy)
  }, [status])
  return code
}

/**
 * A refused WebSocket upgrade (401 after the session expired) looks like a network drop
 * to the browser. While the page is not live, ask the server now and then whether the
 * session is still valid, and send the user to sign in (and back here) when it is not.
 */
function useSignInWhenSessionLost(live: boolean, stoppedBy: number | null) {
  useEffect(() => {
    if (live) return
    if (stoppedBy === PresenceCloseCode.Unauthenticated) {
      window.location.assign(loginUrl(`${window.location.pathname}${window.location.search}`))
      return
    }
    let cancelled = false
    const check = async () => {
      try {
        const response = await fetch('/api/session', { cache: 'no-store' })
        if (!cancelled && response.status === 401) {
          window.location.assign(loginUrl(`${window.location.pathname}${window.location.search}`))
        }
      } catch {
        // offline: the connection machine keeps retrying
      }
    }
    const first = setTimeout(check, 4000)
    const every = setInterval(check, 15_000)
    return () => {
      cancelled = true
      clearTimeout(first)
      clearInterval(every)
    }
  }, [live, stoppedBy])
}

function StoppedNotice({ code }: { code: number }) {
  const text =
    code === PresenceCloseCode.TooManySockets
      ? 'This room is open in another tab or window, so live updates stopped here.'
      : 'Live updates stopped. Reload the page to reconnect.'
  return (
    <div role="alert" className="stopped-notice" data-testid="stopped-notice">
      <p>{text}</p>
      <button type="button" className="button small" onClick={() => window.location.reload()}>
        {code === PresenceCloseCode.TooManySockets ? 'Use this tab' : 'Reload'}
      </button>
    </div>
  )
}
