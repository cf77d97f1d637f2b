import {
  PROTOCOL_VERSION,
  VOICE_FLAGS,
  type VoiceEvent,
  type VoiceMember,
} from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import type { VoiceReadApi, VoiceSnapshot } from '../voice/voice-mirror'
import { applyVoiceEvent, membersOf, sortMembers } from '../voice/voice-mirror'
import { HUB_MAX_BODY_BYTES, HubMessageSchema } from './hub-protocol'
import { HUB_HEADERS, HUB_WINDOW_MS, NonceCache, verifyHubSignature } from './sign'

/** Options of {@link createHubReceiver}. */
export interface HubReceiverOptions {
  secret: string
  /** Only this guild's messages are accepted. */
  guildId: string
  logger?: Logger
  now?: () => number
  windowMs?: number
}

/** The web server's side of hub mode: a framework-free handler plus a mirror with the feed's read API. */
export interface HubReceiver extends VoiceReadApi {
  handle(request: Request): Promise<Response>
  /** Called after a snapshot replaced the mirror (subscribers may have missed events). */
  onResync(listener: (snapshot: VoiceSnapshot) => void): () => void
  /** True once a snapshot has been applied. */
  readonly synced: boolean
}

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

/**
 * Creates a hub receiver. Status codes: 204 applied; 400 invalid body; 401 unauthenticated (bad or
 * missing signature, stale timestamp, replayed nonce); 405 not POST; 409 feedSeq gap (send a snapshot);
 * 413 too large. Error bodies are fixed strings and never echo details.
 */
export function createHubReceiver(options: HubReceiverOptions): HubReceiver {
  const now = options.now ?? Date.now
  const windowMs = options.windowMs ?? HUB_WINDOW_MS
  const nonces = new NonceCache(2 * windowMs)
  let members = new Map<string, VoiceMember>()
  let feedSeq = 0
  let synced = false
  const listeners = new Set<(event: VoiceEvent) => void>()
  const resyncListeners = new Set<(snapshot: VoiceSnapshot) => void>()
  const notify = (events: VoiceEvent[]) => {
    for (const event of events) {
      for (const listener of listeners) {
        try {
          listener(event)
        } catch (error) {
          options.logger?.error({ err: error }, 'hub mirror listener threw')
        }
      }
    }
  }
  const snapshot = (): VoiceSnapshot => ({
    guildId: options.guildId,
    feedSeq,
    members: sortMembers(members.values()),
  })

  return {
    get synced() {
      return synced
    },

    async handle(request) {
      if (request.method !== 'POST') return json(405, { error: 'method_not_allowed' })
      const length = Number(request.headers.get('content-length') ?? '0')
      if (length > HUB_MAX_BODY_BYTES) return json(413, { error: 'too_large' })
      // Read at most the limit even when the length is not announced (chunked uploads).
      const body = await readCapped(request, HUB_MAX_BODY_BYTES)
      if (body === null) return json(413, { error: 'too_large' })
      const verdict = verifyHubSignature(
        options.secret,
        {
          timestamp: request.headers.get(HUB_HEADERS.timestamp),
          nonce: request.headers.get(HUB_HEADERS.nonce),
          signature: request.headers.get(HUB_HEADERS.signature),
        },
        body,
        now(),
        windowMs,
      )
      if (!verdict.ok) {
        options.logger?.warn({ reason: verdict.reason }, 'hub request rejected')
        return json(401, { error: 'unauthorized' })
      }
      if (!nonces.use(request.headers.get(HUB_HEADERS.nonce) as string, now())) {
        options.logger?.warn({ reason: 'replayed_nonce' }, 'hub request rejected')
        return json(401, { error: 'unauthorized' })
      }
      let parsed: ReturnType<typeof HubMessageSchema.safeParse>
      try {
        parsed = HubMessageSchema.safeParse(JSON.parse(body))
      } catch {
        return json(400, { error: 'invalid_body' })
      }
      if (!parsed.success || parsed.data.guildId !== options.guildId) {
        return json(400, { error: 'invalid_body' })
      }
      const message = parsed.data
      if (message.kind === 'snapshot') {
        const next = new Map(message.members.map((m) => [m.userId, m]))
        // Consumers see what changed, as after a fresh READY on the in-process feed:
        // a hub restart or a gap must not freeze their view.
        const changes = synced
          ? diffMembers(options.guildId, members, next, message.feedSeq, now())
          : []
        members = next
        feedSeq = message.feedSeq
        synced = true
        notify(changes)
        const snap = snapshot()
        for (const listener of resyncListeners) listener(snap)
        return new Response(null, { status: 204 })
      }
      if (!synced) return json(409, { error: 'gap', feedSeq })
      for (const event of message.events) {
        if (event.feedSeq <= feedSeq) continue // already applied (a retried request)
        if (event.feedSeq !== feedSeq + 1) return json(409, { error: 'gap', feedSeq })
        applyVoiceEvent(members, event)
        feedSeq = event.feedSeq
        notify([event])
      }
      return new Response(null, { status: 204 })
    },

    snapshot,
    channelMembers: (channelId) => membersOf(members, channelId),
    memberChannel: (userId) => members.get(userId)?.channelId ?? null,
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    onResync(listener) {
      resyncListeners.add(listener)
      return () => {
        resyncListeners.delete(listener)
      }
    },
  }
}

/** The body as text, or null when it is longer than `limit` bytes (reading stops there). */
async function readCapped(request: Request, limit: number): Promise<string | null> {
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      return null
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The events that turn `before` into `after`: leaves (reason resync) for members
 * gone or moved, joins for new or moved ones, updates for changed flags, profile updates for
 * changed display data. They carry
 * the snapshot's feed sequence, since they stand for the stretch it covers.
 */
export function diffMembers(
  guildId: string,
  before: ReadonlyMap<string, VoiceMember>,
  after: ReadonlyMap<string, VoiceMember>,
  feedSeq: number,
  receivedAt: number,
): VoiceEvent[] {
  const base = { v: PROTOCOL_VERSION, guildId, feedSeq, receivedAt }
  const events: VoiceEvent[] = []
  for (const [userId, old] of before) {
    const now = after.get(userId)
    if (!now || now.channelId !== old.channelId) {
      events.push({
        ...base,
        type: 'voice.left',
        channelId: old.channelId,
        userId,
        reason: 'resync',
      })
    }
  }
  for (const [userId, now] of after) {
    const old = before.get(userId)
    if (!old || old.channelId !== now.channelId) {
      events.push({ ...base, type: 'voice.joined', channelId: now.channelId, userId, member: now })
      continue
    }
    const changed = VOICE_FLAGS.filter((flag) => old[flag] !== now[flag])
    if (changed.length > 0) {
      events.push({
        ...base,
        type: 'voice.updated',
        channelId: now.channelId,
        userId,
        member: now,
        changed,
      })
    }
    if (
      old.username !== now.username ||
      old.globalName !== now.globalName ||
      old.avatar !== now.avatar
    ) {
      const { username, globalName, avatar } = now
      events.push({
        ...base,
        type: 'profile.updated',
        channelId: now.channelId,
        userId,
        profile: { username, globalName, avatar },
      })
    }
  }
  return events
}
