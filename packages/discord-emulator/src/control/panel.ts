import { page } from '../oauth/authorize-page.ts'
import { esc } from '../rest/http.ts'
import type { EmulatorState } from './control.ts'

/** The /_emulator control panel: world state plus buttons that call the control API. */
export function renderPanel(s: EmulatorState): string {
  const name = (id: string) => {
    const u = s.users.find((x) => x.id === id)
    return u ? esc(u.globalName ?? u.username) : id
  }
  const voiceChannels = s.channels.filter((c) => c.type === 2)
  const channelOptions = voiceChannels
    .map((c) => `<option value="${c.id}">${esc(c.name)}</option>`)
    .join('')
  const userRows = s.users
    .filter((u) => !u.bot)
    .map((u) => {
      const v = s.voiceStates.find((x) => x.userId === u.id)
      const where = v ? esc(s.channels.find((c) => c.id === v.channelId)?.name ?? v.channelId) : '—'
      return `<tr><td>${esc(u.globalName ?? u.username)}</td><td><code>${u.id}</code></td>
<td>${u.member ? 'yes' : 'no'}</td><td>${where}</td>
<td><select aria-label="Channel for ${esc(u.username)}" id="ch-${u.id}">${channelOptions}</select>
<button onclick="call('/_emulator/voice',{userId:'${u.id}',channelId:document.getElementById('ch-${u.id}').value})">Join</button>
<button class="secondary" onclick="call('/_emulator/voice',{userId:'${u.id}',channelId:null})">Leave</button>
<button class="secondary" onclick="call('/_emulator/voice',{userId:'${u.id}',channelId:document.getElementById('ch-${u.id}').value,selfVideo:${!v?.selfVideo}})">Camera ${v?.selfVideo ? 'off' : 'on'}</button>
<button class="secondary" onclick="call('/_emulator/members/remove',{userId:'${u.id}'})">Remove member</button></td></tr>`
    })
    .join('')
  const channelRows = s.channels
    .map(
      (
        c,
      ) => `<tr><td>${esc(c.name)}</td><td><code>${c.id}</code></td><td>${c.type}</td><td>${c.userLimit || ''}</td>
<td>${s.voiceStates
        .filter((v) => v.channelId === c.id)
        .map((v) => name(v.userId))
        .join(', ')}</td>
<td>${c.type === 2 ? `<a href="/channels/${s.guildId}/${c.id}">open</a>` : ''}</td></tr>`,
    )
    .join('')
  const body = `<p>Guild <code>${s.guildId}</code> · bot <code>${s.botUserId}</code> · REST <code>${esc(s.restBase)}</code></p>
<p>identifies ${s.stats.identifies} · resumes ${s.stats.resumes} · live sessions ${s.stats.activeSessions} · REST requests ${s.stats.restRequests}</p>
<h2>Users</h2><table><tr><th>name</th><th>id</th><th>member</th><th>voice</th><th></th></tr>${userRows}</table>
<p><input id="newuser" aria-label="New username" placeholder="username">
<button onclick="call('/_emulator/users',{username:document.getElementById('newuser').value})">Create user</button></p>
<h2>Channels</h2><table><tr><th>name</th><th>id</th><th>type</th><th>limit</th><th>in voice</th><th></th></tr>${channelRows}</table>
<h2>Gateway faults</h2>
<p><button onclick="call('/_emulator/gateway/close',{code:4000})">Close 4000</button>
<button onclick="call('/_emulator/gateway/close',{code:1006})">Drop TCP (1006)</button>
<button onclick="call('/_emulator/gateway/reconnect',{})">Op 7 reconnect</button>
<button onclick="call('/_emulator/gateway/invalidate',{resumable:false})">Op 9 (not resumable)</button>
<button onclick="call('/_emulator/gateway/heartbeat-acks',{enabled:false})">Stop ACKs</button>
<button onclick="call('/_emulator/gateway/heartbeat-acks',{enabled:true})">Resume ACKs</button>
<button onclick="call('/_emulator/gateway/restart',{})">Restart gateway</button>
<button class="secondary" onclick="call('/_emulator/reset',{})">Reset world</button></p>
<p id="out" role="status"></p>
<script>
async function call(path, body) {
  const r = await fetch(path, {method:'POST', headers:{'content-type':'application/json'}, body: JSON.stringify(body)})
  const t = await r.text()
  document.getElementById('out').textContent = r.status + ' ' + t
  if (r.ok) setTimeout(() => location.reload(), 300)
}
</script>`
  return page('Discord emulator', body)
}
