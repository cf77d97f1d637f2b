import {
  APP_ERRORS,
  type AppErrorCode,
  MAX_ROOM_NAME_LENGTH,
  type MyServers,
  normaliseRoomName,
  RoomCodeSchema,
  type RoomSummary,
  type RoomView,
} from '@repo/discord-integration/contracts'
import { createFileRoute, Link, useNavigate, useRouter } from '@tanstack/react-router'
import { type FormEvent, useId } from 'react'
import {
  SignInButton,
  SignOutButton,
  SignOutEverywhereButton,
} from '../features/auth/ui/auth-forms'
import { ServerRemovedNotice } from '../features/presence/LiveRoomPanel'
import { useMyRooms, useVoiceChannelMembersFromEvents } from '../features/presence/use-presence'
import { createRoom, getHome, joinByCode } from '../features/rooms/rooms.functions'
import { listMyServers } from '../features/servers/servers.functions'
import { ManagedServers, OWN_SERVER, ServerPicker } from '../features/servers/ui/server-picker'
import { errorCodeOf } from '../lib/server-fn-errors'
import { useAction } from '../ui/use-action'

/** The signed-in player's community servers (ROOMS_COMMUNITY=1), or why they could not be read. */
type HomeServers = (MyServers & { error?: never }) | { error: AppErrorCode }

export const Route = createFileRoute('/')({
  // `closed=guild_removed`: a room page came home because the bot was removed from its server.
  validateSearch: (search: Record<string, unknown>): { closed?: 'guild_removed' } =>
    search.closed === 'guild_removed' ? { closed: 'guild_removed' } : {},
  loader: async () => {
    const home = await getHome()
    return { ...home, servers: home.user ? await loadServers() : null }
  },
  component: Home,
})

/** The servers for the picker; a failure leaves the form without it and says why. */
async function loadServers(): Promise<HomeServers> {
  try {
    return await listMyServers()
  } catch (error) {
    return { error: errorCodeOf(error) }
  }
}

function Home() {
  const { user, rooms, servers } = Route.useLoaderData()
  const { closed } = Route.useSearch()
  return (
    <main className="page">
      {closed === 'guild_removed' && <ServerRemovedNotice />}
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
            {servers?.error && <ServersUnavailable code={servers.error} />}
            <CreateRoomForm servers={servers} />
            <JoinByCodeForm />
          </section>
          <MyRooms initial={rooms} />
          {servers && !servers.error && servers.community && (
            <ManagedServers servers={servers.servers} />
          )}
        </>
      )}
    </main>
  )
}

function CreateRoomForm({ servers }: { servers: HomeServers | null }) {
  const navigate = useNavigate()
  const inputId = useId()
  const action = useAction((roomName: string, guildId: string) =>
    createRoom({ data: { name: roomName, ...(guildId ? { guildId } : {}) } }),
  )
  // Uncontrolled on purpose: what was typed before hydration is kept.
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const name = String(form.get('name') ?? '')
    const guildId = String(form.get('guildId') ?? OWN_SERVER)
    // Normalised as the server will (a name of only invisible characters is an empty one).
    const room = await action.run(normaliseRoomName(name) || 'Game night', guildId)
    if (room) await navigate({ to: '/rooms/$roomId', params: { roomId: room.id } })
  }
  return (
    <form className="create-room" onSubmit={onSubmit}>
      {servers && !servers.error && servers.community && <ServerPicker servers={servers.servers} />}
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

/**
 * The player's servers could not be read: a sign-in from before community servers (no `guilds`
 * scope) is offered a new one; otherwise the form goes on without the picker.
 */
function ServersUnavailable({ code }: { code: AppErrorCode }) {
  if (code === 'SERVERS_SIGN_IN') {
    return (
      <div className="server-picker">
        <p className="muted">{APP_ERRORS.SERVERS_SIGN_IN.message}</p>
        <SignInButton returnTo="/" />
      </div>
    )
  }
  return (
    <p className="muted">
      Your Discord servers could not be read just now ({APP_ERRORS[code].message}) Rooms go to Table
      Voice’s own server meanwhile.
    </p>
  )
}

/** Joining by the six-character room code a host read out, instead of the invite link. */
function JoinByCodeForm() {
  const navigate = useNavigate()
  const inputId = useId()
  const action = useAction((code: string) => joinByCode({ data: { code } }))
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const typed = String(new FormData(event.currentTarget).get('code') ?? '')
    const code = RoomCodeSchema.safeParse(typed)
    // A malformed code is sent anyway: the server's answer is the one message for it.
    const result = await action.run(code.success ? code.data : typed)
    if (result) await navigate({ to: '/rooms/$roomId', params: { roomId: result.room.id } })
  }
  return (
    <form className="join-code" onSubmit={onSubmit}>
      <label htmlFor={inputId}>Room code</label>
      <div className="row">
        <input
          id={inputId}
          name="code"
          maxLength={16}
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          placeholder="K7MQ2X"
          className="code-input"
        />
        <button type="submit" className="button" disabled={action.disabled}>
          {action.pending ? 'Joining…' : 'Join with code'}
        </button>
      </div>
      {action.error && (
        <p role="alert" className="error-text">
          {action.error.message}
          {action.error.retryAfter !== undefined &&
            ` (about ${Math.ceil(action.error.retryAfter / 60)} min)`}
        </p>
      )}
    </form>
  )
}

/** A loader room as a line of the list, until the live list comes. */
function summaryOf(room: RoomView, userId: string | undefined): RoomSummary {
  return {
    id: room.id,
    name: room.name,
    role: room.ownerId === userId ? 'host' : 'player',
    players: room.players.length,
    maxPlayers: room.maxPlayers,
    spectators: room.spectators.length,
    inVoice: 0,
    status: room.status,
    locked: room.locked,
    createdAt: room.createdAt,
  }
}

/** Rooms whose counts are followed live (a socket follows at most 8 rooms; the rest show the list's). */
const LIVE_LINES = 8

/**
 * "Your rooms": the rooms the user hosts or sits in, live. The list comes from the server's
 * rooms.list (it changes when a room is created, closed, joined or left anywhere); each line's
 * seat and voice counts come from that room's own stream, as on its page, so both agree.
 */
function MyRooms({ initial }: { initial: RoomView[] }) {
  const router = useRouter()
  const { user } = Route.useLoaderData()
  const live = useMyRooms()
  const rooms = live ?? initial.map((room) => summaryOf(room, user?.userId))
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
        <ul className="room-list" aria-labelledby="my-rooms-title">
          {rooms.map((room, i) =>
            i < LIVE_LINES ? (
              <LiveRoomLine key={room.id} room={room} />
            ) : (
              <RoomLine key={room.id} room={room} />
            ),
          )}
        </ul>
      )}
    </section>
  )
}

/** A line whose counts follow the room's stream (a summary subscription: it is not "here"). */
function LiveRoomLine({ room }: { room: RoomSummary }) {
  const { stream } = useVoiceChannelMembersFromEvents(room.id, 'summary')
  const state = stream.state
  return (
    <RoomLine
      room={{
        ...room,
        players: state?.players.length ?? room.players,
        spectators: state ? (state.spectators?.length ?? 0) : room.spectators,
        inVoice: stream.synced ? stream.members.length : room.inVoice,
        locked: state ? (state.locked ?? false) : room.locked,
        status: state?.status ?? room.status,
      }}
    />
  )
}

function RoomLine({ room }: { room: RoomSummary }) {
  return (
    <li data-testid={`my-room-${room.id}`}>
      <span className="room-line-name">
        <Link to="/rooms/$roomId" params={{ roomId: room.id }}>
          {room.name}
        </Link>
        {room.role === 'host' && <span className="tag">host</span>}
        {room.locked && <span className="tag">locked</span>}
      </span>
      <span className="muted" data-testid="room-counts">
        {room.players}/{room.maxPlayers} players · {room.inVoice} in voice
        {room.spectators > 0 && ` · ${room.spectators} watching`}
        {room.status === 'closing' && ' · closing'}
      </span>
    </li>
  )
}
