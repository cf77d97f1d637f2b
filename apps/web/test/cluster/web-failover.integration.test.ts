import { VoiceTraffic } from '@repo/discord-gateway/testing'
import type { ServerFrame } from '@repo/discord-integration/contracts'
import { waitUntil } from '@repo/process-harness'
import { afterEach, describe, expect, it } from 'vitest'
import { type ClusterWorld, clusterWorld, leaderOf, type WebNode } from './cluster-world'
import { describeMembers, RoomWatcher, type VoiceChange } from './room-watcher'

/**
 * Several web nodes (the production build) and a gateway worker as real processes, on a
 * redis-server of the test's own, with the emulator and ~100 voice changes a second. Browsers are
 * the app's own presence client, one per room on every node. Each test is bounded and leaves
 * nothing running.
 */
const RATE = 100
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function world(): Promise<ClusterWorld> {
  const w = await clusterWorld()
  cleanups.push(() => w.close())
  return w
}

/** Starts web-1 and waits until it leads, then `others` more nodes and a worker. */
async function nodes(w: ClusterWorld, others: number): Promise<WebNode[]> {
  const first = await w.startNode('web-1')
  await waitUntil(async () => (await first.health())?.gateway.isLeader, 15_000, 'web-1 to lead')
  const rest = await Promise.all(
    Array.from({ length: others }, (_, i) => w.startNode(`web-${i + 2}`)),
  )
  await w.startWorker('worker-1')
  return [first, ...rest]
}

/** A browser for every room on each node; when its node is gone it reconnects to another. */
async function watchers(w: ClusterWorld, on: readonly WebNode[], all: readonly WebNode[]) {
  const list: RoomWatcher[] = []
  for (const node of on) {
    for (const room of w.rooms) {
      const watcher = new RoomWatcher(room, await w.cookie(room.ownerId), () =>
        node.process.alive ? node : (all.find((n) => n.process.alive) as WebNode),
      )
      cleanups.push(() => watcher.stop())
      watcher.start()
      list.push(watcher)
    }
  }
  await waitUntil(() => list.every((x) => x.synced), 10_000, 'every browser to be synced')
  return list
}

/** The voice changes the traffic made in a room's channel, in order. */
function expectedIn(traffic: VoiceTraffic, channelId: string): VoiceChange[] {
  return traffic.expected
    .filter((e) => e.channelId === channelId)
    .map(({ type, userId, detail }) => ({ type, userId, channelId, detail }))
}

/** Who is in the channel, per the emulator (the truth). */
function truth(w: ClusterWorld, channelId: string): string[] {
  return w.emu.control
    .state()
    .voiceStates.filter((v) => v.channelId === channelId)
    .map((v) => `${v.userId}${v.selfMute ? ':muted' : ''}`)
    .sort()
}

const changes = (x: RoomWatcher): VoiceChange[] =>
  x
    .voiceFrames()
    .map(({ type, userId, channelId, detail }) => ({ type, userId, channelId, detail }))

/**
 * Every browser of every room got every voice change of the traffic exactly once and in order
 * (consecutive room seqs across its reconnects), and shows the truth.
 */
async function expectExactlyOnce(w: ClusterWorld, traffic: VoiceTraffic, list: RoomWatcher[]) {
  await waitUntil(
    () => list.every((x) => changes(x).length >= expectedIn(traffic, x.room.channelId).length),
    15_000,
    'every browser to receive every change',
  ).catch(() => undefined) // the comparison below says what is missing
  await sleep(500) // nothing more (a doubled frame) may arrive
  for (const x of list) {
    const where = `${x.room.roomId} on ${x.node}`
    expect(changes(x), where).toEqual(expectedIn(traffic, x.room.channelId))
    const seqs = x.voiceFrames().map((f) => f.seq)
    expect(seqs, where).toEqual(seqs.map((_, i) => (seqs[0] as number) + i))
    expect(x.members(), where).toEqual(truth(w, x.room.channelId))
  }
  // The same room stream on every node.
  for (const room of w.rooms) {
    const streams = list.filter((x) => x.room === room).map((x) => x.voiceFrames())
    for (const stream of streams) expect(stream).toEqual(streams[0])
  }
}

/** The room's members in `observer`'s view once it applied the frames up to `seq`. */
function stateAt(observer: RoomWatcher, seq: number): string[] {
  const frames = observer.frames.map((f) => f.frame)
  const first = frames.find((f) => f.type === 'presence.snapshot')
  if (first?.type !== 'presence.snapshot') throw new Error('no snapshot')
  const members = new Map(describeMembers(first.members).map((m) => [m.split(':')[0], m]))
  for (const frame of frames) {
    if (frame.seq <= first.seq || frame.seq > seq) continue
    if (frame.type === 'voice.joined' || frame.type === 'voice.updated') {
      const [description] = describeMembers([frame.member])
      members.set(frame.member.userId, description as string)
    } else if (frame.type === 'voice.left') {
      members.delete(frame.userId)
    }
  }
  return [...members.values()].sort()
}

describe('web nodes failing over (real processes, production build)', () => {
  it('kill -9 of the leading web node under 100 changes/s: a new leader resumes within lease + 2 s, every room stream on every node has every change exactly once and in order, no IDENTIFY; a node started in the middle serves correct snapshots at once', async () => {
    const w = await world()
    const all = await nodes(w, 2)
    const [web1, web2, web3] = all as [WebNode, WebNode, WebNode]
    const list = await watchers(w, all, all)
    const before = w.emu.control.stats()
    const traffic = new VoiceTraffic(w.emu, w.users, w.channels, 19)
    cleanups.push(() => traffic.stop())
    traffic.start(RATE)
    await sleep(1_500)
    const oldToken = (await web1.health())?.gateway.fencingToken as number
    const killedAt = Date.now()
    await web1.process.kill()
    await waitUntil(
      () => w.emu.control.stats().resumes > before.resumes,
      w.leaseMs + 5_000,
      'a RESUME',
    )
    const resumedMs = Date.now() - killedAt

    // A node started in the middle of the traffic, and a browser for every room on it at once.
    const web4 = await w.startNode('web-4')
    const late = await watchers(w, [web4], [web4])
    await sleep(1_500)
    traffic.stop()

    expect(resumedMs).toBeLessThanOrEqual(w.leaseMs + 2_000)
    await expectExactlyOnce(w, traffic, list)
    expect(w.emu.control.stats()).toMatchObject({
      identifies: before.identifies,
      resumes: before.resumes + 1,
    })
    expect(traffic.changes).toBeGreaterThan(250)
    // The browsers of the killed node moved to the others and resumed from their position.
    const moved = list.filter((x) => x.frames[0]?.node === 'web-1')
    expect(moved).toHaveLength(w.rooms.length)
    for (const x of moved) {
      expect(x.sockets).toBe(2)
      const resumed = x.frames
        .filter((f) => f.socket === 2)
        .map((f) => f.frame)
        .find((f) => f.type === 'subscribed')
      expect(resumed).toMatchObject({ type: 'subscribed', recovered: true })
    }
    // Every survivor says who leads now, with a larger token, and how the handover went.
    const next = await leaderOf([web2, web3])
    const health = await web2.health()
    expect(health?.gateway).toMatchObject({
      lastHandover: { mode: 'resumed' },
      lag: { entries: 0 },
    })
    expect(health?.gateway.fencingToken).toBeGreaterThan(oldToken)
    expect(health?.gateway.leader?.holderId).toBe(next?.name ?? 'worker-1')

    // The late node's snapshots: each is the room's state at its seq (or a few changes later,
    // which the frames after it repeat harmlessly), and its frames continue the room stream.
    for (const x of late) {
      const observer = list.find((o) => o.room === x.room && o.node === 'web-2') as RoomWatcher
      const [snapshot] = x.snapshots()
      if (!snapshot) throw new Error('no snapshot')
      const laterSeqs = observer.voiceFrames().map((f) => f.seq)
      const candidates = [snapshot.seq, ...laterSeqs.filter((s) => s > snapshot.seq)]
      expect(
        candidates.some(
          (seq) => stateAt(observer, seq).join() === describeMembers(snapshot.members).join(),
        ),
        `${x.room.roomId}: snapshot at ${snapshot.seq}`,
      ).toBe(true)
      expect(x.voiceFrames()).toEqual(observer.voiceFrames().filter((f) => f.seq > snapshot.seq))
      expect(x.members()).toEqual(truth(w, x.room.channelId))
    }
    console.info(
      `web failover: RESUMED ${resumedMs} ms after kill -9 of the leading web node (lease ${w.leaseMs} ms); ${traffic.changes} changes`,
    )
  }, 120_000)

  it('SIGSTOP of the leading web node past its lease: another takes over; after SIGCONT it steps down by itself, and its browsers get everything once', async () => {
    const w = await world()
    const all = await nodes(w, 2)
    const [web1] = all as [WebNode]
    const list = await watchers(w, all, all)
    const before = w.emu.control.stats()
    const traffic = new VoiceTraffic(w.emu, w.users, w.channels, 23)
    cleanups.push(() => traffic.stop())
    traffic.start(RATE)
    await sleep(1_000)
    web1.process.pause()
    await waitUntil(
      () => w.emu.control.stats().resumes > before.resumes,
      w.leaseMs + 5_000,
      'a RESUME by another',
    )
    await sleep(1_000)
    web1.process.resume()
    const stale = await waitUntil(
      async () => {
        const h = await web1.health()
        const c = h?.gateway.candidate
        return c && c.stepDowns >= 1 && c.state === 'candidate' && !h.gateway.isLeader ? h : null
      },
      5_000,
      'web-1 to step down',
    )
    // Its own clock said the lease was too old before it wrote or connected anything.
    expect(stale.gateway.candidate).toMatchObject({
      lastStepDown: { reason: 'gateway lease lost (expired)' },
    })
    await sleep(1_000)
    traffic.stop()
    await expectExactlyOnce(w, traffic, list)
    expect(w.emu.control.stats()).toMatchObject({
      identifies: before.identifies,
      resumes: before.resumes + 1,
    })
    // The paused node's browsers never had to reconnect.
    expect(list.every((x) => x.sockets === 1)).toBe(true)
  }, 120_000)

  it('a 10 s Redis outage (redis-server frozen) under traffic: no crash, the nodes keep their sockets, and once it is back every room stream on every node has every change exactly once, no IDENTIFY', async () => {
    const w = await world()
    const all = await nodes(w, 2)
    const list = await watchers(w, all, all)
    const before = w.emu.control.stats()
    const traffic = new VoiceTraffic(w.emu, w.users, w.channels, 31)
    cleanups.push(() => traffic.stop())
    traffic.start(RATE)
    await sleep(1_000)
    w.redis.process.pause()
    cleanups.push(() => w.redis.process.resume())
    await sleep(8_000)
    // Every node still answers, and says what is wrong.
    const during = await Promise.all(all.map((n) => n.health(3_000)))
    expect(during.map((h) => h?.status)).toEqual(all.map(() => 'degraded'))
    await sleep(2_000)
    w.redis.process.resume()
    await sleep(2_000)
    traffic.stop()
    await expectExactlyOnce(w, traffic, list)
    expect(w.emu.control.stats().identifies).toBe(before.identifies)
    expect(list.every((x) => x.sockets === 1)).toBe(true)
    for (const node of all) expect(node.process.alive, node.name).toBe(true)
  }, 120_000)

  it('Redis killed and restarted empty under traffic: no process crashes, the nodes keep their sockets, and every browser converges to the truth with nothing doubled', async () => {
    const w = await world()
    const all = await nodes(w, 2)
    const list = await watchers(w, all, all)
    const traffic = new VoiceTraffic(w.emu, w.users, w.channels, 29)
    cleanups.push(() => traffic.stop())
    traffic.start(RATE)
    await sleep(1_500)
    await w.redis.kill()
    await sleep(2_000)
    await w.redis.start()
    await sleep(2_000)
    traffic.stop()
    await waitUntil(
      () => list.every((x) => x.members().join() === truth(w, x.room.channelId).join()),
      20_000,
      'every browser to show the truth',
    ).catch(() => undefined)
    for (const x of list) {
      expect(x.members(), `${x.room.roomId} on ${x.node}`).toEqual(truth(w, x.room.channelId))
      // Served all along by the same node, on the same socket.
      expect(x.sockets, `${x.room.roomId} on ${x.node}`).toBe(1)
      expect(doubled(x.frames.map((f) => f.frame)), `${x.room.roomId} on ${x.node}`).toEqual([])
    }
    for (const node of all) expect(node.process.alive, node.name).toBe(true)
    const healths = await Promise.all(all.map((n) => n.health()))
    await waitUntil(
      async () => (await Promise.all(all.map((n) => n.health()))).every((h) => h?.status === 'ok'),
      15_000,
      'every node to be ok again',
    )
    expect(healths.every((h) => h !== null)).toBe(true)
  }, 120_000)
})

/** Frames of one room stream life (between snapshots) whose seq did not grow: doubles. */
function doubled(frames: ServerFrame[]): number[] {
  const out: number[] = []
  let last = -1
  for (const frame of frames) {
    if (frame.type === 'presence.snapshot') {
      last = frame.seq
      continue
    }
    if (frame.seq <= 0) continue
    if (frame.seq <= last) out.push(frame.seq)
    last = Math.max(last, frame.seq)
  }
  return out
}
