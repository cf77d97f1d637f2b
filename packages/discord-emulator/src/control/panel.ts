import { page } from '../oauth/authorize-page.ts'
import { esc } from '../rest/http.ts'
import type { EmulatorState } from './control.ts'

/** The /_emulator control panel: world state plus buttons that call the control API. */
export function renderPanel(s: EmulatorState): string {
  const name = (id: string) => {
    const u = s.users.find((x) => x.id === id)
    return u ? esc(u.globalName ?? u.username) : id
  }
  const voiceChannels = s.guilds.flatMap((g) =>
    g.channels.filter((c) => c.type === 2).map((c) => ({ ...c, guild: g.name })),
  )
  const many = s.guilds.length > 1
  const channelOptions = voiceChannels
    .map(
      (c) => `<option value="${c.id}">${many ? `${esc(c.guild)} / ` : ''}${esc(c.name)}</option>`,
    )
    .join('')
  const channelName = (id: string) =>
    voiceChannels.find((c) => c.id === id)?.name ?? s.channels.find((c) => c.id === id)?.name
  const userRows = s.users
    .filter((u) => !u.bot)
    .map((u) => {
      const v = s.guilds.flatMap((g) => g.voiceStates).find((x) => x.userId === u.id)
      const where = v ? esc(channelName(v.channelId) ?? v.channelId) : '—'
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
  const guildRows = s.guilds
    .map(
      (
        g,
      ) => `<tr><td>${esc(g.name)}</td><td><code>${g.id}</code></td><td>${g.shard[0]} / ${g.shard[1]}</td>
<td>${g.botInGuild ? 'yes' : 'no'}</td><td>${g.available ? 'yes' : 'outage'}</td><td>${g.members.length}</td>
<td><button class="secondary" onclick="call('/_emulator/bot/membership',{guildId:'${g.id}',member:${!g.botInGuild}})">${g.botInGuild ? 'Remove bot' : 'Add bot'}</button>
<button class="secondary" onclick="call('/_emulator/guilds/availability',{guildId:'${g.id}',available:${!g.available}})">${g.available ? 'Start outage' : 'End outage'}</button></td></tr>`,
    )
    .join('')
  const body = `<p>Guild <code>${s.guildId}</code> · bot <code>${s.botUserId}</code> · REST <code>${esc(s.restBase)}</code></p>
<p>identifies ${s.stats.identifies} · resumes ${s.stats.resumes} · live sessions ${s.stats.activeSessions} · REST requests ${s.stats.restRequests}</p>
<h2>Guilds</h2><p>${s.sharding.recommendedShards} recommended shard(s), ${s.sharding.guildsPerShard} guilds per shard, max_concurrency ${s.sharding.maxConcurrency}</p>
<table><tr><th>name</th><th>id</th><th>shard</th><th>bot</th><th>available</th><th>members</th><th></th></tr>${guildRows}</table>
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
