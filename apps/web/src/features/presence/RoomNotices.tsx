import { PresenceCloseCode } from '@repo/discord-integration/contracts'
import { useNow } from './use-presence'

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

/** The closing warning: nobody is in voice, and the seconds left before the room closes. */
export function ClosingWarning({ closesAt }: { closesAt: number }) {
  const now = useNow()
  const seconds = Math.max(0, Math.ceil((closesAt - now) / 1000))
  return (
    <div role="alert" className="closing-warning" data-testid="closing-warning">
      Nobody is in voice: this room closes in {seconds} s. Join the voice channel to keep it open.
    </div>
  )
}

/** Live updates stopped for good (close `code`): why, and the button that starts them again. */
export function StoppedNotice({ code }: { code: number }) {
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
