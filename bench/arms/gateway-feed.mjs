import { epochMs } from '../lib/clock.mjs'
import { importFromGateway } from '../lib/resolve.mjs'

const { WebSocketManager, WebSocketShardEvents } = await importFromGateway('@discordjs/ws')
const { REST } = await importFromGateway('@discordjs/rest')

const FLAGS = /** @type {const} */ ([
  ['mute', 'mute'],
  ['deaf', 'deaf'],
  ['selfMute', 'self_mute'],
  ['selfDeaf', 'self_deaf'],
  ['selfVideo', 'self_video'],
  ['selfStream', 'self_stream'],
  ['suppress', 'suppress'],
])

/**
 * What both baselines run in front of their fan-out: the same Discord client library as our
 * gateway package (@discordjs/ws 2.x over @discordjs/rest), connected to the same emulator, and a
 * minimal voice-state map that turns each VOICE_STATE_UPDATE into the same frame shape our server
 * sends (`voice.joined` / `voice.left` / `voice.updated`, with `receivedAt`). It does no
 * validation, persistence, supervision or reconciliation: that is what makes it a floor.
 *
 * @param {{ restBase: string, botToken: string, rooms: { roomId: string, channelId: string }[],
 *   onFrame: (roomId: string, body: Record<string, unknown>) => void }} opts
 */
export async function startGatewayFeed(opts) {
  const roomByChannel = new Map(opts.rooms.map((r) => [r.channelId, r.roomId]))
  /** userId -> member as last seen */
  const members = new Map()
  const rest = new REST({ api: opts.restBase, version: '10' }).setToken(opts.botToken)
  const manager = new WebSocketManager({ token: opts.botToken, intents: 1 | 128, rest })
  let readyResolve
  const ready = new Promise((r) => {
    readyResolve = r
  })

  const toMember = (d) => {
    const user = d.member?.user
    const m = {
      userId: d.user_id,
      channelId: d.channel_id,
      username: user?.username ?? 'unknown',
      globalName: user?.global_name ?? null,
      avatar: user?.avatar ?? null,
    }
    for (const [ours, theirs] of FLAGS) m[ours] = Boolean(d[theirs])
    return m
  }

  manager.on(WebSocketShardEvents.Dispatch, (payload) => {
    const receivedAt = epochMs()
    if (payload.t === 'GUILD_CREATE') {
      for (const vs of payload.d.voice_states ?? []) {
        const member = payload.d.members?.find((m) => m.user?.id === vs.user_id)
        members.set(vs.user_id, toMember({ ...vs, member }))
      }
      readyResolve()
      return
    }
    if (payload.t !== 'VOICE_STATE_UPDATE') return
    const d = payload.d
    const prev = members.get(d.user_id)
    if (d.channel_id === null) {
      members.delete(d.user_id)
      const room = prev && roomByChannel.get(prev.channelId)
      if (room) {
        opts.onFrame(room, {
          type: 'voice.left',
          userId: d.user_id,
          channelId: prev.channelId,
          reason: 'left',
          receivedAt,
        })
      }
      return
    }
    const member = toMember(d)
    members.set(d.user_id, member)
    const room = roomByChannel.get(member.channelId)
    if (prev && prev.channelId === member.channelId) {
      const changed = FLAGS.map(([k]) => k).filter((k) => prev[k] !== member[k])
      if (room && changed.length > 0) {
        opts.onFrame(room, { type: 'voice.updated', member, changed, receivedAt })
      }
      return
    }
    const before = prev && roomByChannel.get(prev.channelId)
    if (before) {
      opts.onFrame(before, {
        type: 'voice.left',
        userId: d.user_id,
        channelId: prev.channelId,
        reason: 'moved',
        receivedAt,
      })
    }
    if (room) opts.onFrame(room, { type: 'voice.joined', member, receivedAt })
  })

  await manager.connect()
  await ready
  return { close: () => manager.destroy() }
}

/**
 * A per-room stream: seq numbers and a bounded history, each frame serialised once. The bounds
 * are our bus's defaults (500 frames and two minutes per room), so every arm holds the same
 * history once it is full.
 */
export class RoomStreams {
  constructor(maxFrames = 500, maxAgeMs = 120_000) {
    this.maxFrames = maxFrames
    this.maxAgeMs = maxAgeMs
    /** roomId -> { seq, frames: {seq, ts, text}[] } */
    this.rooms = new Map()
  }

  stream(roomId) {
    let s = this.rooms.get(roomId)
    if (!s) {
      s = { seq: 0, frames: [] }
      this.rooms.set(roomId, s)
    }
    return s
  }

  /** Stamps and records a frame; returns its JSON text. */
  stamp(roomId, body) {
    const s = this.stream(roomId)
    s.seq++
    const ts = epochMs()
    const text = JSON.stringify({ v: 1, room: roomId, seq: s.seq, ts, ...body })
    s.frames.push({ seq: s.seq, ts, text })
    if (s.frames.length > this.maxFrames) s.frames.shift()
    while (s.frames.length > 0 && s.frames[0].ts < ts - this.maxAgeMs) s.frames.shift()
    return text
  }

  /** The texts of frames after `since`, or null when the history no longer covers them. */
  replay(roomId, since) {
    const s = this.stream(roomId)
    if (since >= s.seq) return []
    const first = s.frames[0]
    if (!first || first.seq > since + 1) return null
    return s.frames.filter((f) => f.seq > since).map((f) => f.text)
  }
}
