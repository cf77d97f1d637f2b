import {
  MAX_CATEGORY_NAME_LENGTH,
  MAX_SERVER_OPEN_ROOMS,
  type ServerRoomSettings,
  type ServerSettingsView,
} from '@repo/discord-integration/contracts'
import { type FormEvent, useId, useState } from 'react'
import { useAction } from '../../../ui/use-action'
import { saveServerSettings } from '../servers.functions'

/**
 * A server's room settings, for its managers: "Rooms enabled", "Category name", "Most open rooms",
 * "Role required to create rooms", and "Save settings". Uncontrolled fields: what was typed before
 * hydration is kept.
 */
export function ServerSettingsForm({ view }: { view: ServerSettingsView }) {
  const ids = { category: useId(), max: useId(), role: useId(), enabled: useId() }
  const [saved, setSaved] = useState<ServerSettingsView | null>(null)
  const action = useAction((settings: ServerRoomSettings) =>
    saveServerSettings({ data: { guildId: view.guild.id, ...settings } }),
  )
  const current = saved ?? view
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setSaved(null)
    const form = new FormData(event.currentTarget)
    const role = String(form.get('requiredRoleId') ?? '')
    const result = await action.run({
      roomsEnabled: form.get('roomsEnabled') === 'on',
      categoryName: String(form.get('categoryName') ?? ''),
      maxOpenRooms: Number(form.get('maxOpenRooms')),
      requiredRoleId: role === '' ? null : role,
    })
    if (result) setSaved(result)
  }
  const s = current.settings
  return (
    <>
      <form
        // A save remounts the fields with the settings as stored (a category name trimmed, say).
        key={current.updatedAt ?? 'defaults'}
        className="server-settings"
        onSubmit={onSubmit}
        aria-labelledby="server-settings-title"
      >
        <div className="check-row">
          <input
            id={ids.enabled}
            type="checkbox"
            name="roomsEnabled"
            defaultChecked={s.roomsEnabled}
          />
          <label htmlFor={ids.enabled}>Rooms enabled</label>
        </div>
        <p className="muted">
          Off: nobody can create new rooms in this server (open rooms stay until they close).
        </p>
        <label htmlFor={ids.category}>Category name</label>
        <input
          id={ids.category}
          name="categoryName"
          required
          maxLength={MAX_CATEGORY_NAME_LENGTH}
          defaultValue={s.categoryName}
        />
        <label htmlFor={ids.max}>Most open rooms</label>
        <input
          id={ids.max}
          name="maxOpenRooms"
          type="number"
          required
          min={1}
          max={MAX_SERVER_OPEN_ROOMS}
          step={1}
          defaultValue={s.maxOpenRooms}
        />
        <label htmlFor={ids.role}>Role required to create rooms</label>
        <select id={ids.role} name="requiredRoleId" defaultValue={s.requiredRoleId ?? ''}>
          <option value="">No role required</option>
          {current.roles.map((role) => (
            <option key={role.id} value={role.id}>
              {role.name}
            </option>
          ))}
        </select>
        <div className="row">
          <button type="submit" className="button primary" disabled={action.disabled}>
            {action.pending ? 'Saving…' : 'Save settings'}
          </button>
        </div>
      </form>
      {/* Outside the form, so that a save's remount keeps the live region (it is announced). */}
      <p role="status" className="status-line">
        {saved ? 'Settings saved.' : ''}
      </p>
      {action.error && (
        <p role="alert" className="error-text">
          {action.error.message}
        </p>
      )}
    </>
  )
}
