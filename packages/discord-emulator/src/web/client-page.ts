import type { IncomingMessage, ServerResponse } from 'node:http'
import { PermissionFlagsBits as P } from 'discord-api-types/v10'
import { page, USER_COOKIE } from '../oauth/authorize-page.ts'
import { esc, parseCookies, readBody, redirect, send, sendHtml } from '../rest/http.ts'
import type { Runtime } from '../runtime.ts'
import type { Guild } from '../world/guild.ts'
import { has } from '../world/permissions.ts'

const PATH = /^\/channels\/(\d{17,20})\/(\d{17,20})(?:\/(join|leave|user|flags|state))?\/?$/

/**
 * Why a user may not join a voice channel, as the Discord client would refuse it: not a member,
 * no CONNECT, or the channel is full (MOVE_MEMBERS bypasses user_limit).
 */
export function joinRefusal(w: Guild, userId: string, channelId: string): string | null {
  if (!w.members.has(userId)) return 'You are not a member of this server.'
  const perms = w.channelPermissions(userId, channelId)
  if (!has(perms, P.ViewChannel | P.Connect))
    return 'You do not have permission to connect to this channel.'
  const channel = w.channels.get(channelId)
  const others = w.occupants(channelId).filter((id) => id !== userId)
  if (
    channel &&
    channel.userLimit > 0 &&
    others.length >= channel.userLimit &&
    !has(perms, P.MoveMembers)
  ) {
    return 'This voice channel is full.'
  }
  return null
}

/**
 * The tiny "Discord client" at /channels/{guild}/{channel}: join/leave that voice channel as the
 * user who last approved OAuth in this browser (cookie), with a picker to switch user.
 */
export async function handleClientPage(
  rt: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://x')
  const m = PATH.exec(url.pathname)
  if (!m) return false
  const [, guildId, channelId, action] = m
  const w = rt.world.guild(guildId ?? '')
  const channel = w?.channels.get(channelId ?? '')
  if (!w || !channel || channel.type !== 2) {
    sendHtml(res, 404, page('Unknown channel', '<p>No such voice channel.</p>'))
    return true
  }
  const self = `/channels/${guildId}/${channel.id}`
  const cookieUser = parseCookies(req.headers.cookie)[USER_COOKIE]
  const users = rt.world.users
  const userId = cookieUser && users.has(cookieUser) ? cookieUser : null
  if (req.method === 'GET' && action === 'state') {
    send(res, 200, { occupants: w.occupants(channel.id).map((id) => w.apiVoiceState(id)) })
    return true
  }
  if (req.method === 'POST' && action) {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'))
    if (action === 'user') {
      const picked = form.get('user_id') ?? ''
      const ok = users.has(picked) && !users.get(picked)?.bot
      redirect(
        res,
        self,
        303,
        ok ? { 'set-cookie': `${USER_COOKIE}=${picked}; Path=/; SameSite=Lax` } : {},
      )
      return true
    }
    if (!userId) {
      redirect(res, `${self}?error=${encodeURIComponent('Pick a user first.')}`, 303)
      return true
    }
    let error: string | null = null
    if (action === 'join') {
      error = joinRefusal(w, userId, channel.id)
      if (!error) w.setVoice(userId, channel.id)
    } else if (action === 'leave') {
      if (w.voice.get(userId)?.channelId === channel.id) w.setVoice(userId, null)
    } else if (action === 'flags') {
      const v = w.voice.get(userId)
      const flag = form.get('flag')
      if (v?.channelId === channel.id && (flag === 'selfMute' || flag === 'selfVideo')) {
        w.setVoice(userId, channel.id, { [flag]: !v[flag] })
      }
    }
    redirect(res, error ? `${self}?error=${encodeURIComponent(error)}` : self, 303)
    return true
  }
  sendHtml(res, 200, renderClient(rt, w, channel.id, userId, url.searchParams.get('error')))
  return true
}

function renderClient(
  rt: Runtime,
  w: Guild,
  channelId: string,
  userId: string | null,
  error: string | null,
) {
  const channel = w.channels.get(channelId)!
  const self = `/channels/${w.id}/${channelId}`
  const name = (id: string) => {
    const u = rt.world.users.get(id)
    return esc(u?.globalName ?? u?.username ?? id)
  }
  const inHere = userId !== null && w.voice.get(userId)?.channelId === channelId
  const occupants = w
    .occupants(channelId)
    .map((id) => {
      const v = w.voice.get(id)
      const icons = `${v?.selfMute ? ' 🔇' : ''}${v?.selfVideo ? ' 📷' : ''}`
      return `<li data-user-id="${id}">${name(id)}${icons}</li>`
    })
    .join('')
  const options = [...rt.world.users.values()]
    .filter((u) => !u.bot)
    .map(
      (u) =>
        `<option value="${u.id}"${u.id === userId ? ' selected' : ''}>${esc(u.globalName ?? u.username)} (@${esc(u.username)})</option>`,
    )
    .join('')
  const others = [...w.channels.values()]
    .filter((c) => c.type === 2)
    .map((c) => `<li><a href="/channels/${w.id}/${c.id}">🔊 ${esc(c.name)}</a></li>`)
    .join('')
  const actions = !userId
    ? '<p>Pick who you are to join.</p>'
    : inHere
      ? `<form method="post" action="${self}/leave"><button aria-label="Leave voice">Leave voice</button></form>
<form method="post" action="${self}/flags"><input type="hidden" name="flag" value="selfMute"><button class="secondary">Toggle mute</button></form>
<form method="post" action="${self}/flags"><input type="hidden" name="flag" value="selfVideo"><button class="secondary">Toggle camera</button></form>`
      : `<form method="post" action="${self}/join"><button aria-label="Join voice">Join voice</button></form>`
  const body = `<p>${esc(w.name)} · 🔊 <strong>${esc(channel.name)}</strong>${channel.userLimit ? ` (max ${channel.userLimit})` : ''}</p>
${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="${self}/user"><label>You are <select name="user_id" aria-label="User">${options}</select></label> <button class="secondary">Switch user</button></form>
<p>${userId ? `Signed in as <strong>${name(userId)}</strong>` : 'No user selected.'}</p>
${actions}
<h2>In this channel</h2><ul id="occupants" aria-label="In this channel">${occupants || '<li>Nobody yet</li>'}</ul>
<h2>Voice channels</h2><ul>${others}</ul>
<script>
setInterval(async () => {
  const r = await fetch('${self}/state'); if (!r.ok) return
  const { occupants } = await r.json()
  const now = occupants.map((o) => o.user_id).join(',')
  const shown = [...document.querySelectorAll('#occupants li[data-user-id]')].map((li) => li.dataset.userId).join(',')
  if (now !== shown) location.reload()
}, 1500)
</script>`
  return page(channel.name, body)
}
