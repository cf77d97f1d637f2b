import { useEffect, useId, useRef } from 'react'

/** Props of {@link VoiceDropoutModal}. */
export interface VoiceDropoutModalProps {
  open: boolean
  /** Opens the room's voice channel in Discord. */
  voiceJoinUrl: string
  onLeaveGame: () => void
}

/**
 * Shown when the current user left the room's voice channel. It never rejoins by itself (a kick
 * must not loop); the user picks "Rejoin in Discord" or "Leave game". It cannot be dismissed
 * otherwise, and it closes by itself once the user is back in voice.
 */
export function VoiceDropoutModal({ open, voiceJoinUrl, onLeaveGame }: VoiceDropoutModalProps) {
  const titleId = useId()
  const descriptionId = useId()
  const rejoin = useRef<HTMLAnchorElement>(null)
  useEffect(() => {
    if (open) rejoin.current?.focus()
  }, [open])
  if (!open) return null
  return (
    <div className="modal-backdrop">
      <div
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={descriptionId}
        className="modal"
        data-testid="voice-dropout-modal"
      >
        <h2 id={titleId}>You left voice</h2>
        <p id={descriptionId}>
          You are no longer in this room's Discord voice channel. The others can't hear you.
        </p>
        <div className="row">
          <a
            ref={rejoin}
            className="button primary"
            href={voiceJoinUrl}
            target="_blank"
            rel="noreferrer"
          >
            Rejoin in Discord
          </a>
          <button type="button" className="button" onClick={onLeaveGame}>
            Leave game
          </button>
        </div>
      </div>
    </div>
  )
}
