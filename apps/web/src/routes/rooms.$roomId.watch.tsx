import { APP_ERRORS, type AppErrorCode, needsSignIn } from '@repo/discord-integration/contracts'
import { createFileRoute, redirect, useNavigate } from '@tanstack/react-router'
import { useEffect } from 'react'
import { z } from 'zod'
import { previewWatch, watchRoom } from '../features/rooms/rooms.functions'
import { setPageStatus } from '../lib/page-status'
import { loginUrl } from '../lib/return-to'
import { errorCodeOf, errorMessageOf } from '../lib/server-fn-errors'
import { MessagePage } from '../ui/message-page'
import { useAction } from '../ui/use-action'

type Preview = Awaited<ReturnType<typeof previewWatch>>

/** The watch link's landing page: watch a room as a spectator (no seat, listen-only voice). */
export const Route = createFileRoute('/rooms/$roomId/watch')({
  validateSearch: z.object({ t: z.string().catch('') }),
  loaderDeps: ({ search }) => ({ t: search.t }),
  loader: async ({
    params,
    deps,
    location,
  }): Promise<{ preview: Preview; error?: never } | { preview?: never; error: AppErrorCode }> => {
    try {
      return { preview: await previewWatch({ data: { roomId: params.roomId, token: deps.t } }) }
    } catch (error) {
      const code = errorCodeOf(error)
      if (needsSignIn(code)) throw redirect({ href: loginUrl(location.href), reloadDocument: true })
      if (code === 'TOKEN_EXPIRED') throw redirect({ to: '/invite-expired' })
      if (code === 'ROOM_NOT_FOUND') throw redirect({ to: '/room-closed' })
      setPageStatus(APP_ERRORS[code].status)
      return { error: code }
    }
  },
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
  const errorCode = action.error?.code
  useEffect(() => {
    if (errorCode === 'TOKEN_EXPIRED') void navigate({ to: '/invite-expired' })
    if (errorCode === 'ROOM_NOT_FOUND') void navigate({ to: '/room-closed' })
  }, [errorCode, navigate])
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
