import type { MyServer } from '@repo/discord-integration/contracts'
import { Link } from '@tanstack/react-router'
import { useId } from 'react'

/** The picker's value for "no community server": the deployment's own server. */
export const OWN_SERVER = ''

/**
 * The create-room form's "Server" select (ROOMS_COMMUNITY=1): the deployment's own server, then
 * the player's servers where they can create rooms (shared with the bot, rooms enabled, the
 * required role held). Its value is the picked guild id, or {@link OWN_SERVER}.
 */
export function ServerPicker({ servers }: { servers: readonly MyServer[] }) {
  const id = useId()
  const offered = servers.filter((s) => s.canCreateRooms)
  return (
    <div className="server-picker">
      <label htmlFor={id}>Server</label>
      <select id={id} name="guildId" defaultValue={OWN_SERVER}>
        <option value={OWN_SERVER}>Table Voice’s own server</option>
        {offered.map((server) => (
          <option key={server.id} value={server.id}>
            {server.name}
          </option>
        ))}
      </select>
      {offered.length === 0 && (
        <p className="muted">
          None of your Discord servers offers rooms yet: a server’s admin adds Table Voice to it.
        </p>
      )}
    </div>
  )
}

/**
 * "Your servers": links to the room settings of the servers the player manages (owner or Manage
 * Server), with whether rooms are open there for them.
 */
export function ManagedServers({ servers }: { servers: readonly MyServer[] }) {
  const managed = servers.filter((s) => s.canManage)
  if (managed.length === 0) return null
  return (
    <section className="card" aria-labelledby="my-servers-title">
      <h2 id="my-servers-title">Servers you manage</h2>
      <ul className="room-list" aria-labelledby="my-servers-title">
        {managed.map((server) => (
          <li key={server.id}>
            <span className="room-line-name">{server.name}</span>
            <Link
              to="/servers/$guildId/settings"
              params={{ guildId: server.id }}
              aria-label={`Room settings of ${server.name}`}
            >
              Room settings
            </Link>
          </li>
        ))}
      </ul>
    </section>
  )
}
