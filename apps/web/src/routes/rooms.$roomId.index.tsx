import {
  type ConnectVoiceResult,
  needsSignIn,
  type Player,
  type RoomView,
} from '@repo/discord-integration/contracts'
import { createFileRoute, redirect, useNavigate } from '@tanstack/react-router'
import { useId, useState } from 'react'
import { LiveRoomPanel } from '~/features/presence/LiveRoomPanel'
import {
  closeRoom,
  connectVoice,
  getRoom,
  kickPlayer,
  leaveRoom,
  rotateInvite,
} from '../features/rooms/rooms.functions'
import { loginUrl } from '../lib/return-to'
import { errorCodeOf, errorMessageOf } from '../lib/server-fn-errors'
import { MessagePage } from '../ui/message-page'
import { useAction } from '../ui/use-action'

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

function RoomPage() {
  const data = Route.useLoaderData()
  const [room, setRoom] = useState<RoomView>(data.room)
  const self = data.self
  const isOwner = room.ownerId === self.userId
  const kick = useAction((userId: string) => kickPlayer({ data: { roomId: room.id, userId } }))

  const renderSeatActions = isOwner
    ? (player: Player) =>
        player.userId === self.userId ? null : (
          <button
            type="button"
            className="button small danger"
            disabled={kick.disabled}
            onClick={async () => {
              const next = await kick.run(player.userId)
              if (next) setRoom(next)
            }}
          >
            Kick <span className="visually-hidden">{player.globalName ?? player.username}</span>
          </button>
        )
    : undefined

  return (
    <main className="page room-page">
      <header className="room-header">
        <div>
          <p className="eyebrow">Private room</p>
          <h1>{room.name}</h1>
          <p className="muted">
            {room.players.length} of {room.maxPlayers} seats taken ·{' '}
            {isOwner ? 'You are the host' : 'You are a player'}
          </p>
        </div>
        <ExitRoomButton roomId={room.id} close={isOwner} />
      </header>
      {kick.error && (
        <p role="alert" className="error-text">
          {kick.error.message}
        </p>
      )}
      <div className="room-grid">
        <section className="card" aria-labelledby="seats-title" data-testid="room-seats">
          <h2 id="seats-title">Seats</h2>
          <LiveRoomPanel
            room={room}
            selfUserId={self.userId}
            renderSeatActions={renderSeatActions}
          />
        </section>
        <div className="stack">
          <VoiceCard room={room} />
          <InviteCard room={room} isOwner={isOwner} onRotated={setRoom} />
        </div>
      </div>
    </main>
  )
}

function VoiceCard({ room }: { room: RoomView }) {
  const [result, setResult] = useState<ConnectVoiceResult | null>(null)
  const action = useAction(() => connectVoice({ data: { roomId: room.id } }))
  return (
    <section className="card" aria-labelledby="voice-title">
      <h2 id="voice-title">Voice</h2>
      <p className="muted">
        If you are already in a voice channel of the server, we move you in. Otherwise open the
        channel in Discord and join it there.
      </p>
      <div className="row">
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

function InviteCard({
  room,
  isOwner,
  onRotated,
}: {
  room: RoomView
  isOwner: boolean
  onRotated: (room: RoomView) => void
}) {
  const inputId = useId()
  const [copied, setCopied] = useState(false)
  const rotate = useAction(() => rotateInvite({ data: { roomId: room.id } }))
  const url = room.invite?.url ?? ''
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url)
    } catch {
      const input = document.getElementById(inputId) as HTMLInputElement | null
      input?.select()
      document.execCommand?.('copy')
    }
    setCopied(true)
    setTimeout(() => setCopied(false), 2000)
  }
  return (
    <section className="card" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite players</h2>
      <label htmlFor={inputId}>Invite link</label>
      <div className="row">
        <input
          id={inputId}
          readOnly
          value={url}
          onFocus={(e) => e.currentTarget.select()}
          data-testid="invite-link"
        />
        <button type="button" className="button" onClick={copy}>
          Copy invite link
        </button>
      </div>
      <p className="muted" aria-live="polite">
        {copied
          ? 'Copied.'
          : room.invite
            ? `Valid until ${new Date(room.invite.expiresAt).toLocaleString()}.`
            : ''}
      </p>
      {isOwner && (
        <button
          type="button"
          className="button subtle"
          disabled={rotate.disabled}
          onClick={async () => {
            const next = await rotate.run()
            if (next) onRotated(next)
          }}
        >
          New invite link
        </button>
      )}
      {rotate.error && (
        <p role="alert" className="error-text">
          {rotate.error.message}
        </p>
      )}
    </section>
  )
}

/** Leaves the room (a player) or closes it for everyone (the host), then goes home. */
function ExitRoomButton({ roomId, close }: { roomId: string; close: boolean }) {
  const navigate = useNavigate()
  const action = useAction(() =>
    close ? closeRoom({ data: { roomId } }) : leaveRoom({ data: { roomId } }),
  )
  const confirmClose = () =>
    window.confirm('Close this room for everyone and delete its voice channel?')
  return (
    <div className="stack end">
      <button
        type="button"
        className={close ? 'button danger' : 'button subtle'}
        disabled={action.disabled}
        onClick={async () => {
          if (close && !confirmClose()) return
          if (await action.run()) await navigate({ to: '/' })
        }}
      >
        {close ? 'Close room' : 'Leave room'}
      </button>
      {action.error && (
        <p role="alert" className="error-text">
          {action.error.message}
        </p>
      )}
    </div>
  )
}
