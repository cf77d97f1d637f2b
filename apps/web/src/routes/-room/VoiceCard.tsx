import type { ConnectVoiceResult, RoomView } from '@repo/discord-integration/contracts'
import { useState } from 'react'
import { connectVoice } from '../../features/rooms/rooms.functions'
import { useAction } from '../../ui/use-action'

/**
 * Getting into the room's voice channel: moved in when already in voice elsewhere in the server,
 * otherwise a link that opens the channel in Discord (in the browser, often Discord's web client)
 * and one that opens it in the installed Discord app (`discord://`).
 */
export function VoiceCard({ room, spectator }: { room: RoomView; spectator: boolean }) {
  const [result, setResult] = useState<ConnectVoiceResult | null>(null)
  const action = useAction(() => connectVoice({ data: { roomId: room.id } }))
  return (
    <section className="card" aria-labelledby="voice-title">
      <h2 id="voice-title">Voice</h2>
      <p className="muted">
        If you are already in a voice channel of the server, we move you in. Otherwise open the
        channel in Discord and join it there.
        {spectator && ' As a spectator you can listen, but not talk or share video.'}
      </p>
      <div className="row wrap">
        <button
          type="button"
          className="button primary"
          disabled={action.disabled}
          onClick={async () => {
            const next = await action.run()
            if (next) setResult(next)
          }}
        >
          {action.pending ? 'Connecting…' : 'Connect voice'}
        </button>
        <a className="button" href={room.voiceJoinUrl} target="_blank" rel="noreferrer">
          Open in Discord
        </a>
        <a className="button" href={room.voiceAppUrl}>
          Open in the Discord app
        </a>
      </div>
      <p aria-live="polite" className="status-line" data-testid="voice-status">
        {result?.status === 'moved' && 'You were moved into the room’s voice channel.'}
        {result?.status === 'already_in_channel' && 'You are in the room’s voice channel.'}
        {result?.status === 'not_in_voice' && (
          <>
            You are not in voice yet.{' '}
            <a href={result.joinUrl} target="_blank" rel="noreferrer">
              Join the voice channel in Discord
            </a>
            ; the seats update as soon as you are in.
          </>
        )}
      </p>
      {action.error && (
        <p role="alert" className="error-text">
          {action.error.message}
        </p>
      )}
    </section>
  )
}
