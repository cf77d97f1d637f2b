import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { ViewerRegistry } from './ports'
import { LocalViewers, notifyAll } from './viewer-presence'

/** Options of {@link RedisViewerPresence}. */
export interface RedisViewerPresenceOptions {
  /** The command connection (owned by the caller); a duplicate is made for pub/sub. */
  redis: Redis
  /** Key prefix of the deployment (REDIS_PREFIX). */
  prefix: string
  logger: Logger
  /** This node's id. @defaultValue a random UUID (a restarted node is a new node) */
  nodeId?: string
  /** How often the node renews its entry and rereads the others'. @defaultValue 5_000 */
  heartbeatMs?: number
  /** How long a node's entry outlives its last renewal: a dead node's viewers expire. @defaultValue 15_000 */
  ttlMs?: number
}

/** The field of a node's hash holding its version (room ids never start with '#'). */
const VERSION_FIELD = '#v'

/** Removes a node from the node set only if its hash is gone (it did not come back meanwhile). */
const FORGET_NODE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
`

/** What a node publishes when its viewers change: the new user lists of the rooms that changed. */
interface ChangeMessage {
  node: string
  /** The node's version after the change (a snapshot of a later version supersedes it). */
  v: number
  rooms: Record<string, string[]>
}

interface RemoteNode {
  version: number
  rooms: Map<string, readonly string[]>
}

/**
 * ViewerPresence for several nodes on Redis. Each node keeps its own page subscriptions in a hash
 * `{prefix}viewers:node:{nodeId}` (field room id, value the user ids), with a TTL it renews every
 * heartbeat, and is listed in the set `{prefix}viewers:nodes`. A change is written and published on
 * `{prefix}viewers:changed` (batched per turn of the event loop), so the other nodes update their
 * copy at once; every heartbeat each node also rereads all the others' hashes, which repairs a
 * missed message and drops a dead node's viewers once its hash expired (within ttl + heartbeat).
 * Versions per node keep an older snapshot from undoing a newer message.
 *
 * Written by hand: it is a few Redis commands over a hash per node, not a problem a library solves.
 */
export class RedisViewerPresence implements ViewerRegistry {
  readonly #o: Required<RedisViewerPresenceOptions>
  readonly #local = new LocalViewers()
  readonly #remote = new Map<string, RemoteNode>()
  readonly #listeners = new Set<(roomId: string) => void>()
  readonly #dirty = new Set<string>()
  #version = 0
  #flushing = false
  #sub: Redis | null = null
  #timer: ReturnType<typeof setInterval> | null = null
  #synced = false
  #stopped = false
  /** A write failed: the next heartbeat rewrites the whole entry. */
  #rewriteNeeded = false

  constructor(options: RedisViewerPresenceOptions) {
    this.#o = { nodeId: randomUUID(), heartbeatMs: 5_000, ttlMs: 15_000, ...options }
  }

  get nodeId(): string {
    return this.#o.nodeId
  }

  get synced(): boolean {
    return this.#synced
  }

  #nodeKey(nodeId: string): string {
    return `${this.#o.prefix}viewers:node:${nodeId}`
  }
  get #nodesKey(): string {
    return `${this.#o.prefix}viewers:nodes`
  }
  get #channel(): string {
    return `${this.#o.prefix}viewers:changed`
  }

  // ---------------------------------------------------------------------------
  // ViewerPresence
  // ---------------------------------------------------------------------------

  viewers(roomId: string): readonly string[] {
    const users = new Set(this.#local.users(roomId))
    for (const node of this.#remote.values())
      for (const u of node.rooms.get(roomId) ?? []) users.add(u)
    return [...users].sort()
  }

  isViewing(roomId: string, userId: string): boolean {
    if (this.#local.has(roomId, userId)) return true
    for (const node of this.#remote.values())
      if (node.rooms.get(roomId)?.includes(userId)) return true
    return false
  }

  onChange(listener: (roomId: string) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  // ---------------------------------------------------------------------------
  // This node's subscriptions
  // ---------------------------------------------------------------------------

  open(roomId: string, userId: string): void {
    const before = this.isViewing(roomId, userId)
    if (!this.#local.open(roomId, userId)) return
    this.#markDirty(roomId)
    if (!before) notifyAll(this.#listeners, roomId)
  }

  close(roomId: string, userId: string): void {
    if (!this.#local.close(roomId, userId)) return
    this.#markDirty(roomId)
    if (!this.isViewing(roomId, userId)) notifyAll(this.#listeners, roomId)
  }

  async start(): Promise<void> {
    const sub = this.#o.redis.duplicate()
    this.#sub = sub
    sub.on('error', () => {})
    sub.on('message', (channel: string, text: string) => {
      if (channel === this.#channel) this.#onMessage(text)
    })
    // ioredis resubscribes after a reconnect; what was published meanwhile the next resync repairs.
    await sub.subscribe(this.#channel)
    await this.#resync()
    this.#timer = setInterval(() => void this.#heartbeat(), this.#o.heartbeatMs)
    this.#timer.unref?.()
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#timer) clearInterval(this.#timer)
    const rooms: Record<string, string[]> = {}
    for (const [roomId] of this.#local.entries()) rooms[roomId] = []
    try {
      // Gone at once for the others, not after the TTL.
      const message: ChangeMessage = { node: this.#o.nodeId, v: ++this.#version, rooms }
      await this.#o.redis
        .multi()
        .del(this.#nodeKey(this.#o.nodeId))
        .srem(this.#nodesKey, this.#o.nodeId)
        .publish(this.#channel, JSON.stringify(message))
        .exec()
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'viewer presence: leaving failed; the entry expires')
    }
    this.#sub?.disconnect()
    this.#sub = null
    this.#listeners.clear()
  }

  // ---------------------------------------------------------------------------
  // Writing this node's entry
  // ---------------------------------------------------------------------------

  #markDirty(roomId: string): void {
    this.#dirty.add(roomId)
    this.#scheduleFlush()
  }

  #scheduleFlush(): void {
    if (this.#flushing || this.#stopped) return
    this.#flushing = true
    // One write and one message for every change of this turn (a reconnect storm is thousands).
    setImmediate(() => void this.#flush())
  }

  async #flush(): Promise<void> {
    // Stopping: its entry is deleted and its rooms announced empty; nothing may be written after.
    if (this.#stopped) return
    const rooms: Record<string, string[]> = {}
    for (const roomId of this.#dirty) rooms[roomId] = [...this.#local.users(roomId)]
    this.#dirty.clear()
    const version = ++this.#version
    const key = this.#nodeKey(this.#o.nodeId)
    const tx = this.#o.redis.multi()
    for (const [roomId, users] of Object.entries(rooms)) {
      if (users.length > 0) tx.hset(key, roomId, users.join(','))
      else tx.hdel(key, roomId)
    }
    tx.hset(key, VERSION_FIELD, String(version))
    tx.pexpire(key, this.#o.ttlMs)
    tx.sadd(this.#nodesKey, this.#o.nodeId)
    const message: ChangeMessage = { node: this.#o.nodeId, v: version, rooms }
    tx.publish(this.#channel, JSON.stringify(message))
    try {
      await tx.exec()
    } catch (error) {
      // The next heartbeat rewrites the whole entry when it finds it missing or stale.
      this.#o.logger.warn({ err: error }, 'viewer presence: writing this node’s viewers failed')
      this.#rewriteNeeded = true
    } finally {
      this.#flushing = false
      if (this.#dirty.size > 0) this.#scheduleFlush()
    }
  }

  /** Renews this node's entry (rewriting it when it expired or a write failed), then resyncs. */
  async #heartbeat(): Promise<void> {
    if (this.#stopped) return
    const key = this.#nodeKey(this.#o.nodeId)
    try {
      const local = [...this.#local.entries()]
      if (local.length > 0) {
        const renewed = await this.#o.redis.pexpire(key, this.#o.ttlMs)
        if (renewed === 0 || this.#rewriteNeeded) {
          this.#rewriteNeeded = false
          const tx = this.#o.redis.multi().del(key)
          for (const [roomId, users] of local) tx.hset(key, roomId, users.join(','))
          tx.hset(key, VERSION_FIELD, String(++this.#version))
          await tx.pexpire(key, this.#o.ttlMs).sadd(this.#nodesKey, this.#o.nodeId).exec()
        } else {
          await this.#o.redis.sadd(this.#nodesKey, this.#o.nodeId)
        }
      }
      await this.#resync()
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'viewer presence: heartbeat failed')
    }
  }

  // ---------------------------------------------------------------------------
  // Reading the other nodes'
  // ---------------------------------------------------------------------------

  #onMessage(text: string): void {
    let message: ChangeMessage
    try {
      message = JSON.parse(text) as ChangeMessage
      if (typeof message.node !== 'string' || typeof message.v !== 'number') return
      if (typeof message.rooms !== 'object' || message.rooms === null) return
    } catch {
      return
    }
    if (message.node === this.#o.nodeId) return
    const node = this.#remote.get(message.node) ?? { version: 0, rooms: new Map() }
    if (message.v <= node.version) return
    this.#remote.set(message.node, node)
    node.version = message.v
    for (const [roomId, users] of Object.entries(message.rooms)) {
      if (!Array.isArray(users)) continue
      this.#replaceRoom(
        node,
        roomId,
        users.filter((u) => typeof u === 'string'),
      )
    }
  }

  /** Rereads every other node's hash: repairs missed messages, forgets dead nodes. */
  async #resync(): Promise<void> {
    const nodes = (await this.#o.redis.smembers(this.#nodesKey)).filter(
      (id) => id !== this.#o.nodeId,
    )
    const pipeline = this.#o.redis.pipeline()
    for (const id of nodes) pipeline.hgetall(this.#nodeKey(id))
    const results = (await pipeline.exec()) ?? []
    const alive = new Set<string>()
    for (const [i, id] of nodes.entries()) {
      const [error, hash] = results[i] ?? [null, {}]
      if (error) continue
      const fields = (hash ?? {}) as Record<string, string>
      if (Object.keys(fields).length === 0) {
        await this.#o.redis.eval(FORGET_NODE_SCRIPT, 2, this.#nodeKey(id), this.#nodesKey, id)
        continue
      }
      alive.add(id)
      const version = Number(fields[VERSION_FIELD] ?? 0)
      const node = this.#remote.get(id) ?? { version: -1, rooms: new Map() }
      if (version < node.version) continue
      this.#remote.set(id, node)
      node.version = version
      const seen = new Set<string>()
      for (const [roomId, value] of Object.entries(fields)) {
        if (roomId === VERSION_FIELD) continue
        seen.add(roomId)
        this.#replaceRoom(node, roomId, value ? value.split(',') : [])
      }
      for (const roomId of [...node.rooms.keys()]) {
        if (!seen.has(roomId)) this.#replaceRoom(node, roomId, [])
      }
    }
    for (const [id, node] of [...this.#remote]) {
      if (alive.has(id)) continue
      // Dead (its entry expired) or gone: its viewers are no longer here.
      this.#remote.delete(id)
      for (const [roomId, users] of node.rooms) {
        if (users.some((userId) => !this.isViewing(roomId, userId))) {
          notifyAll(this.#listeners, roomId)
        }
      }
    }
    this.#synced = true
  }

  #replaceRoom(node: RemoteNode, roomId: string, users: readonly string[]): void {
    const before = this.viewers(roomId).join(',')
    if (users.length > 0) node.rooms.set(roomId, users)
    else node.rooms.delete(roomId)
    if (this.viewers(roomId).join(',') !== before) notifyAll(this.#listeners, roomId)
  }
}
