import {
  MAX_ROOM_NAME_LENGTH,
  normaliseRoomName,
  type RoomView,
} from '@repo/discord-integration/contracts'
import { createFileRoute, Link, useNavigate, useRouter } from '@tanstack/react-router'
import { type FormEvent, useId } from 'react'
import {
  SignInButton,
  SignOutButton,
  SignOutEverywhereButton,
} from '../features/auth/ui/auth-forms'
import { createRoom, getHome } from '../features/rooms/rooms.functions'
import { useAction } from '../ui/use-action'

export const Route = createFileRoute('/')({
  loader: () => getHome(),
  component: Home,
})

function Home() {
  const { user, rooms } = Route.useLoaderData()
  return (
    <main className="page">
      <section className="hero">
        <h1>Your playgroup, one private voice room away</h1>
        <p className="lead">
          Table Voice gives each webcam card game its own private Discord voice channel for up to
          four players, a signed invite link that lasts 24 hours, and a live list of who is in
          voice, muted or on camera.
        </p>
        {!user && <SignInButton returnTo="/" />}
      </section>
      {user && (
        <>
          <section className="card" aria-labelledby="signed-in-title">
            <div className="row spread">
              <h2 id="signed-in-title">Signed in as {user.globalName ?? user.username}</h2>
              <div className="row">
                <SignOutButton />
                <SignOutEverywhereButton />
              </div>
            </div>
            <CreateRoomForm />
          </section>
          <MyRooms rooms={rooms} />
        </>
      )}
    </main>
  )
}

function CreateRoomForm() {
  const navigate = useNavigate()
  const inputId = useId()
  const action = useAction((roomName: string) => createRoom({ data: { name: roomName } }))
  // Uncontrolled on purpose: what was typed before hydration is kept.
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const name = String(new FormData(event.currentTarget).get('name') ?? '')
    // Normalised as the server will (a name of only invisible characters is an empty one).
    const room = await action.run(normaliseRoomName(name) || 'Game night')
    if (room) await navigate({ to: '/rooms/$roomId', params: { roomId: room.id } })
  }
  return (
    <form className="create-room" onSubmit={onSubmit}>
      <label htmlFor={inputId}>Room name</label>
      <div className="row">
        <input id={inputId} name="name" maxLength={MAX_ROOM_NAME_LENGTH} placeholder="Game night" />
        <button type="submit" className="button primary" disabled={action.disabled}>
          {action.pending ? 'Creating…' : 'Create room'}
        </button>
      </div>
      {action.error && (
        <p role="alert" className="error-text">
          {action.error.message}
        </p>
      )}
    </form>
  )
}

function MyRooms({ rooms }: { rooms: RoomView[] }) {
  const router = useRouter()
  return (
    <section className="card" aria-labelledby="my-rooms-title">
      <div className="row spread">
        <h2 id="my-rooms-title">Your rooms</h2>
        <button type="button" className="button subtle" onClick={() => router.invalidate()}>
          Refresh
        </button>
      </div>
      {rooms.length === 0 ? (
        <p className="muted">No open rooms yet. Create one and share its invite link.</p>
      ) : (
        <ul className="room-list">
          {rooms.map((room) => (
            <li key={room.id}>
              <Link to="/rooms/$roomId" params={{ roomId: room.id }}>
                {room.name}
              </Link>
              <span className="muted">
                {room.players.length}/{room.maxPlayers} players
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
