import { APP_ERRORS } from '@repo/discord-integration/contracts'
import { createFileRoute, useNavigate } from '@tanstack/react-router'
import { z } from 'zod'
import { joinRoom, previewInvite } from '../features/rooms/rooms.functions'
import { errorMessageOf } from '../lib/server-fn-errors'
import { loadLinkPreview, useLinkErrorPages } from '../lib/signed-link'
import { MessagePage } from '../ui/message-page'
import { useAction } from '../ui/use-action'

type Invite = Awaited<ReturnType<typeof previewInvite>>

export const Route = createFileRoute('/rooms/$roomId/join')({
  validateSearch: z.object({ t: z.string().catch('') }),
  loaderDeps: ({ search }) => ({ t: search.t }),
  loader: ({ params, deps, location }) =>
    loadLinkPreview(
      () => previewInvite({ data: { roomId: params.roomId, token: deps.t } }),
      location.href,
    ),
  errorComponent: ({ error }) => <InviteError message={errorMessageOf(error)} />,
  component: JoinPage,
})

function InviteError({ message }: { message: string }) {
  return (
    <MessagePage title="This invite link does not work" tone="danger">
      <p>{message}</p>
    </MessagePage>
  )
}

function JoinPage() {
  const { preview: invite, error } = Route.useLoaderData()
  if (error) return <InviteError message={APP_ERRORS[error].message} />
  return <JoinForm invite={invite} />
}

function JoinForm({ invite }: { invite: Invite }) {
  const { t } = Route.useSearch()
  const navigate = useNavigate()
  const action = useAction(() => joinRoom({ data: { roomId: invite.roomId, token: t } }))
  const full = invite.players >= invite.maxPlayers
  const onJoin = async () => {
    const result = await action.run()
    if (result) {
      await navigate({ to: '/rooms/$roomId', params: { roomId: result.room.id } })
    }
  }
  useLinkErrorPages(action.error?.code)
  return (
    <main className="page narrow">
      <section className="card" aria-labelledby="join-title">
        <p className="eyebrow">You are invited</p>
        <h1 id="join-title">{invite.name}</h1>
        <p className="muted">
          {invite.players} of {invite.maxPlayers} seats taken. Joining gives you access to the
          room’s private Discord voice channel (and adds you to the Discord server if needed).
        </p>
        <button
          type="button"
          className="button primary"
          disabled={action.disabled}
          onClick={onJoin}
        >
          {action.pending ? 'Joining…' : 'Join room'}
        </button>
        {invite.locked && (
          <p className="notice" data-testid="locked-notice">
            {APP_ERRORS.ROOM_LOCKED.message}
          </p>
        )}
        {full && (
          <p className="muted">The room looks full, but you can still try: seats free up.</p>
        )}
        {action.error && (
          <p role="alert" className="error-text">
            {action.error.message}
          </p>
        )}
      </section>
    </main>
  )
}
