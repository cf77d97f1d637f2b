import {
  APP_ERRORS,
  type AppErrorCode,
  needsSignIn,
  type ServerSettingsView,
} from '@repo/discord-integration/contracts'
import { createFileRoute, Link, redirect } from '@tanstack/react-router'
import { getServerSettings } from '../features/servers/servers.functions'
import { ServerSettingsForm } from '../features/servers/ui/server-settings-form'
import { setPageStatus } from '../lib/page-status'
import { loginUrl } from '../lib/return-to'
import { errorCodeOf, errorMessageOf } from '../lib/server-fn-errors'
import { MessagePage } from '../ui/message-page'

/**
 * A community server's room settings (ROOMS_COMMUNITY=1), for its owner and members with Manage
 * Server. Anyone else gets the page "You cannot change this server's settings" with 403.
 */
export const Route = createFileRoute('/servers/$guildId/settings')({
  loader: async ({
    params,
    location,
  }): Promise<
    { view: ServerSettingsView; error?: never } | { view?: never; error: AppErrorCode }
  > => {
    try {
      return { view: await getServerSettings({ data: { guildId: params.guildId } }) }
    } catch (error) {
      const code = errorCodeOf(error)
      if (needsSignIn(code)) throw redirect({ href: loginUrl(location.href), reloadDocument: true })
      setPageStatus(APP_ERRORS[code].status)
      return { error: code }
    }
  },
  errorComponent: ({ error }) => (
    <SettingsError code={errorCodeOf(error)} message={errorMessageOf(error)} />
  ),
  component: ServerSettingsPage,
})

function SettingsError({ code, message }: { code: AppErrorCode; message: string }) {
  const title =
    code === 'MANAGE_SERVER_REQUIRED'
      ? 'You cannot change this server’s settings'
      : code === 'SERVER_NOT_FOUND' || code === 'INVALID_INPUT'
        ? 'No such server here'
        : 'The settings could not be loaded'
  return (
    <MessagePage title={title} tone="danger">
      <p role="alert">{message}</p>
    </MessagePage>
  )
}

function ServerSettingsPage() {
  const { view, error } = Route.useLoaderData()
  if (error) return <SettingsError code={error} message={APP_ERRORS[error].message} />
  return (
    <main className="page narrow">
      <section className="card" aria-labelledby="server-settings-title">
        <p className="eyebrow">Room settings</p>
        <h1 id="server-settings-title">{view.guild.name}</h1>
        <p className="muted">
          How Table Voice makes rooms in this Discord server: whether its members can create them,
          the category their voice channels go in, how many may be open at once, and a role a member
          needs to create one.
        </p>
        <ServerSettingsForm view={view} />
        <p>
          <Link to="/" className="button subtle">
            Back to the lobby
          </Link>
        </p>
      </section>
    </main>
  )
}
