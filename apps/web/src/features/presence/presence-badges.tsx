import type { VoiceMember } from '@repo/discord-integration/contracts'
import type { ReactNode } from 'react'
import { useNow } from './use-presence'
import { CameraIcon, DeafenedIcon, MutedIcon, StreamIcon } from './voice-icons'

/** "Who is here": whether the player has the room page open (unknown until the stream says). */
export function PageBadge({ open }: { open: boolean | undefined }) {
  if (open === undefined) return null
  return (
    <span className={open ? 'page-badge open' : 'page-badge closed'}>
      {open ? 'Page open' : 'Page closed'}
    </span>
  )
}

/** A dropped player's seat, and how long it is still theirs (m:ss). */
export function HeldFor({ until }: { until: number }) {
  const now = useNow()
  const left = Math.max(0, Math.ceil((until - now) / 1000))
  const text =
    left > 0
      ? `Dropped, seat held for ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`
      : 'Dropped, seat held until someone is back'
  return <span className="seat-dropped">{text}</span>
}

/** Whether someone is in voice (a spectator: listening), with their voice flags. */
export function VoiceBadge({
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
export function VoiceFlags({ member }: { member: VoiceMember }) {
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
