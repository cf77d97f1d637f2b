import { needsSignIn } from '@repo/discord-integration/contracts'
import { createFileRoute, redirect } from '@tanstack/react-router'
import { LiveRoomPanel } from '~/features/presence/LiveRoomPanel'
import { useLiveRoom } from '~/features/presence/use-presence'
import { getRoom } from '../features/rooms/rooms.functions'
import { loginUrl } from '../lib/return-to'
import { errorCodeOf, errorMessageOf } from '../lib/server-fn-errors'
import { MessagePage } from '../ui/message-page'
import { InviteCard } from './-room/InviteCard'
import { RoomHeader } from './-room/RoomHeader'
import { useHostActions } from './-room/SeatActions'
import { useRoomLinks } from './-room/use-room-links'
import { VoiceCard } from './-room/VoiceCard'

export const Route = createFileRoute('/rooms/$roomId/')({
  loader: async ({ params, location }) => {
    try {
      return await getRoom({ data: { roomId: params.roomId } })
    } catch (error) {
      const code = errorCodeOf(error)
      if (needsSignIn(code)) throw redirect({ href: loginUrl(location.href), reloadDocument: true })
      if (code === 'ROOM_NOT_FOUND') throw redirect({ to: '/room-closed' })
      throw error
    }
  },
  head: ({ loaderData }) => ({
    meta: [{ title: `${loaderData?.room.name ?? 'Room'} · Table Voice` }],
  }),
  errorComponent: ({ error }) =>
    errorCodeOf(error) === 'FORBIDDEN' ? (
      <MessagePage title="You are not in this room" tone="warn">
        <p>Only the room's players can open it. Ask the host for an invite link.</p>
      </MessagePage>
    ) : (
      <MessagePage title="Could not open the room" tone="danger">
        <p>{errorMessageOf(error)}</p>
      </MessagePage>
    ),
  component: RoomPage,
})

/**
 * The room page. One client-side state of the room (useLiveRoom: the presence stream over the
 * loader's data) drives all of it: header, seats, spectators, voice list, host controls and the
 * players' links, so none of them can show something the others do not.
 */
function RoomPage() {
  const { room, self } = Route.useLoaderData()
  const live = useLiveRoom(room, self.userId)
  const isHost = live.role === 'host'
  const isPlayer = isHost || live.role === 'player'
  const [links, setLinks] = useRoomLinks(room, live.linksRev, isPlayer)
  const host = useHostActions(room.id, self.userId)

  return (
    <main className="page room-page">
      <RoomHeader live={live} />
      {host.error && (
        <p role="alert" className="error-text">
          {host.error.message}
        </p>
      )}
      <div className="room-grid">
        <section className="card" aria-labelledby="seats-title" data-testid="room-seats">
          <h2 id="seats-title">Seats</h2>
          <LiveRoomPanel
            room={room}
            live={live}
            selfUserId={self.userId}
            renderSeatActions={isHost ? host.seat : undefined}
            renderSpectatorActions={isHost ? host.spectator : undefined}
          />
        </section>
        <div className="stack">
          {live.role && <VoiceCard room={room} spectator={live.role === 'spectator'} />}
          {isPlayer && <InviteCard live={live} links={links} isHost={isHost} onLinks={setLinks} />}
        </div>
      </div>
    </main>
  )
}
