import { APP_ERRORS } from '@repo/discord-integration/contracts'
import { createFileRoute, useNavigate } from '@tanstack/react-router'
import { z } from 'zod'
import { previewWatch, watchRoom } from '../features/rooms/rooms.functions'
import { errorMessageOf } from '../lib/server-fn-errors'
import { loadLinkPreview, useLinkErrorPages } from '../lib/signed-link'
import { MessagePage } from '../ui/message-page'
import { useAction } from '../ui/use-action'

type Preview = Awaited<ReturnType<typeof previewWatch>>

/** The watch link's landing page: watch a room as a spectator (no seat, listen-only voice). */
export const Route = createFileRoute('/rooms/$roomId/watch')({
  validateSearch: z.object({ t: z.string().catch('') }),
  loaderDeps: ({ search }) => ({ t: search.t }),
  loader: ({ params, deps, location }) =>
    loadLinkPreview(
      () => previewWatch({ data: { roomId: params.roomId, token: deps.t } }),
      location.href,
    ),
  errorComponent: ({ error }) => <WatchError message={errorMessageOf(error)} />,
  component: WatchPage,
})

function WatchError({ message }: { message: string }) {
  return (
    <MessagePage title="This watch link does not work" tone="danger">
      <p>{message}</p>
    </MessagePage>
  )
}

function WatchPage() {
  const { preview, error } = Route.useLoaderData()
  if (error) return <WatchError message={APP_ERRORS[error].message} />
  return <WatchForm preview={preview} />
}

function WatchForm({ preview }: { preview: Preview }) {
  const { t } = Route.useSearch()
  const navigate = useNavigate()
  const action = useAction(() => watchRoom({ data: { roomId: preview.roomId, token: t } }))
  useLinkErrorPages(action.error?.code)
  return (
    <main className="page narrow">
      <section className="card" aria-labelledby="watch-title">
        <p className="eyebrow">You are invited to watch</p>
        <h1 id="watch-title">{preview.name}</h1>
        <p className="muted">
          {preview.spectators} of {preview.maxSpectators} spectator places taken. Spectators see the
          table live and can listen in the room’s Discord voice channel, without a seat, a
          microphone or a camera.
        </p>
        <button
          type="button"
          className="button primary"
          disabled={action.disabled}
          onClick={async () => {
            const room = await action.run()
            if (room) await navigate({ to: '/rooms/$roomId', params: { roomId: room.id } })
          }}
        >
          {action.pending ? 'Joining…' : 'Watch room'}
        </button>
        {action.error && (
          <p role="alert" className="error-text">
            {action.error.message}
          </p>
        )}
      </section>
    </main>
  )
}
