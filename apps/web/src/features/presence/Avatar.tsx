import { useState } from 'react'

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean)
  const letters =
    parts.length > 1 ? `${parts[0]?.[0] ?? ''}${parts[1]?.[0] ?? ''}` : name.slice(0, 2)
  return letters.toUpperCase()
}

/** A Discord avatar, or the name's initials when there is none or it fails to load. */
export function Avatar({
  userId,
  avatar,
  name,
}: {
  userId: string
  avatar: string | null
  name: string
}) {
  const [failed, setFailed] = useState<string | null>(null)
  if (!avatar || failed === avatar) {
    return (
      <span className="avatar initials" aria-hidden="true">
        {initials(name)}
      </span>
    )
  }
  return (
    <img
      className="avatar"
      src={`https://cdn.discordapp.com/avatars/${userId}/${avatar}.png?size=64`}
      alt=""
      width={32}
      height={32}
      onError={() => setFailed(avatar)}
    />
  )
}
