/**
 * The load process: N WebSocket clients of one arm (ours = the real app at /api/ws, raw = the ws
 * baseline, sio = the Socket.IO baseline), driven by the orchestrator over IPC. It never sends
 * events; it only receives, so its schedule knowledge comes from schedule.mjs: the n-th frame
 * after a room's base seq is the room's n-th scheduled event, due at a known monotonic time.
 * Latency = receipt time - intended send time (open loop, same-host CLOCK_MONOTONIC).
 * Loss and duplicates are counted per client from the room sequence numbers.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { nowMs, sleep } from './lib/clock.mjs'
import { fullGc } from './lib/gc.mjs'
import { LatencyHistogram } from './lib/hist.mjs'
import { serveRequests } from './lib/ipc.mjs'
import { importFromWeb } from './lib/resolve.mjs'
import { Samples } from './lib/samples.mjs'
import { dueAt, eventsForRoom, globalIndex, playerOf } from './lib/schedule.mjs'
import { logStalls } from './lib/stalls.mjs'

logStalls('load')

const { WebSocket } = await importFromWeb('ws')
const { io } = await importFromWeb('socket.io-client')

/** @type {'ours'|'raw'|'sio'} */
let arm = 'raw'
let url = ''
let origin = ''
/** @type {Client[]} */
let clients = []
let rooms = []
/** The schedule being measured, or null. */
let schedule = null
let m = freshMetrics()

function freshMetrics() {
  return {
    samples: new Samples(),
    received: 0,
    measured: 0,
    firstMeasuredAt: null,
    lastAt: null,
    dups: 0,
    gaps: 0,
    mismatched: 0,
    closes: {},
    errors: {},
  }
}

/**
 * @typedef {object} Client
 * @property {number} i
 * @property {string} userId
 * @property {number} roomIdx
 * @property {string} roomId
 * @property {string} cookie
 * @property {number} lastSeq last room seq applied (-1 before the first subscribe)
 * @property {number} base the room seq just before the current schedule
 * @property {string|undefined} epoch
 * @property {boolean} stalled
 */

function count(map, key) {
  map[key] = (map[key] ?? 0) + 1
}

/** Applies a room-stream frame: sequence bookkeeping and, inside a schedule, latency. */
function onStreamFrame(c, f, t) {
  const seq = f.seq
  if (seq <= c.lastSeq) {
    m.dups++
    return
  }
  if (c.lastSeq >= 0 && seq > c.lastSeq + 1) m.gaps += seq - c.lastSeq - 1
  c.lastSeq = seq
  m.lastAt = t
  if (c.catchUpTo !== null && seq >= c.catchUpTo) resynced(c, t, true)
  if (!schedule) return
  const n = seq - c.base - 1
  if (n < 0 || n >= eventsForRoom(schedule, c.roomIdx)) return
  m.received++
  c.got++
  const room = rooms[c.roomIdx]
  const expectedUser = room.players[playerOf(n, room.players.length)]
  const userId = f.member?.userId ?? f.userId
  if (f.type !== 'voice.updated' || userId !== expectedUser) {
    m.mismatched++
    return
  }
  const g = globalIndex(schedule, c.roomIdx, n)
  if (g < schedule.warmup) return
  m.samples.push(g, t, !c.stalled && !stallCohort.has(c.i))
  m.measured++
  m.firstMeasuredAt ??= t
}

// ---- resync bookkeeping (reconnect storm) ---------------------------------------------------

let storm = null
/** Counts per whole second since the storm began (index = second). */
function perSecond(times) {
  const out = []
  for (const t of times) {
    const s = Math.floor(t / 1000)
    while (out.length <= s) out.push(0)
    out[s]++
  }
  return out
}
function resynced(c, t, recovered) {
  c.catchUpTo = null
  if (!storm?.pending.has(c.i)) return
  storm.pending.delete(c.i)
  storm.hist.record(t - storm.t0)
  storm.resyncedAt.push(t - storm.t0)
  if (recovered) storm.recovered++
  else storm.snapshot++
  if (storm.pending.size === 0) storm.done?.()
}

// ---- ws clients (ours, raw) ----------------------------------------------------------------------

function onText(c, text, t) {
  let f
  try {
    f = JSON.parse(text)
  } catch {
    count(m.errors, 'bad-json')
    return
  }
  switch (f.type) {
    case 'subscribed':
      if (f.epoch) c.epoch = f.epoch
      if (f.recovered) {
        // Replayed frames follow; resynced once we reach the position announced here.
        if (c.lastSeq >= f.seq) resynced(c, t, true)
        else c.catchUpTo = f.seq
        c.ready?.()
      } else if (arm === 'raw') {
        if (c.lastSeq >= 0 && f.seq > c.lastSeq) m.gaps += f.seq - c.lastSeq
        c.lastSeq = f.seq
        resynced(c, t, false)
        c.ready?.()
      }
      return
    case 'presence.snapshot':
      if (f.epoch) c.epoch = f.epoch
      c.lastSeq = Math.max(c.lastSeq, f.seq)
      resynced(c, t, false)
      c.ready?.()
      return
    case 'error':
      count(m.errors, f.code ?? 'unknown')
      return
    case 'pong':
      return
    default:
      if (typeof f.seq === 'number' && f.seq > 0) onStreamFrame(c, f, t)
  }
}

function openWs(c) {
  return new Promise((resolve) => {
    const ws = new WebSocket(c.url ?? url, {
      perMessageDeflate: false,
      handshakeTimeout: 30_000,
      headers: arm === 'ours' ? { cookie: c.cookie, origin } : {},
      // Spread source addresses over 127.0.0.0/8 so 10k sockets x reconnects never run out of
      // ephemeral ports (TIME_WAIT).
      localAddress: `127.0.${1 + ((c.i >> 8) % 200)}.${1 + (c.i % 250)}`,
    })
    c.ws = ws
    c.catchUpTo = null
    let settled = false
    const done = (ok, why) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      c.ready = null
      resolve({ ok, why })
    }
    const timer = setTimeout(() => done(false, 'timeout'), 30_000)
    c.ready = () => done(true)
    ws.on('open', () => {
      if (storm) storm.opened.push(nowMs() - storm.t0)
      const sub = { v: 1, type: 'subscribe', room: c.roomId }
      if (c.lastSeq >= 0) {
        sub.since = c.lastSeq
        if (c.epoch) sub.epoch = c.epoch
      }
      ws.send(JSON.stringify(sub))
    })
    ws.on('message', (data) => onText(c, data.toString(), nowMs()))
    ws.on('unexpected-response', (_req, res) => {
      count(m.closes, `http-${res.statusCode}`)
      done(false, `http-${res.statusCode}`)
      ws.terminate()
    })
    ws.on('close', (code) => {
      if (c.ws === ws) count(m.closes, String(code))
      done(false, `close-${code}`)
    })
    ws.on('error', (err) => {
      count(m.errors, err.code ?? err.message)
      done(false, err.code ?? 'error')
    })
  })
}

// ---- Socket.IO clients -----------------------------------------------------------------------------

function openSio(c) {
  return new Promise((resolve) => {
    const sock = io(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 1,
      reconnectionDelayMax: 5,
      randomizationFactor: 0,
      timeout: 30_000,
      perMessageDeflate: false,
      localAddress: `127.0.${1 + ((c.i >> 8) % 200)}.${1 + (c.i % 250)}`,
    })
    c.sock = sock
    let first = true
    sock.on('frame', (text) => onText(c, text, nowMs()))
    sock.on('connect', () => {
      if (sock.recovered) {
        resynced(c, nowMs(), true)
        return
      }
      sock.emit('subscribe', { room: c.roomId }, (ack) => {
        if (c.lastSeq >= 0 && ack.seq > c.lastSeq) m.gaps += ack.seq - c.lastSeq
        c.lastSeq = Math.max(c.lastSeq, ack.seq)
        resynced(c, nowMs(), false)
        if (first) {
          first = false
          resolve({ ok: true })
        }
      })
    })
    sock.on('disconnect', (reason) => count(m.closes, reason))
    sock.on('connect_error', (err) => {
      count(m.errors, err.message)
      if (first) {
        first = false
        sock.close()
        resolve({ ok: false, why: err.message })
      }
    })
  })
}

function open(c) {
  return arm === 'sio' ? openSio(c) : openWs(c)
}

/** Runs `fn` over items with at most `limit` in flight. */
async function pool(items, limit, fn) {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]
      await fn(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

const stallCohort = new Set()

serveRequests({
  /** A full collection before a measured window (see measure() in run.mjs). */
  gc: () => fullGc(),

  connect: async (msg) => {
    arm = msg.arm
    url = msg.url
    origin = msg.origin ?? ''
    rooms = msg.rooms
    clients = msg.clients.map((c, i) => ({
      ...c,
      // Several nodes (g): each client its own node's URL; else the arm's one.
      url: c.url ?? msg.url,
      i,
      lastSeq: -1,
      base: 0,
      epoch: undefined,
      stalled: false,
      catchUpTo: null,
      ready: null,
    }))
    m = freshMetrics()
    const t = nowMs()
    const failed = {}
    await pool(clients, msg.concurrency ?? 200, async (c) => {
      let r = await open(c)
      // The server may still be counting a previous socket of this user: retry a few times.
      for (let attempt = 0; !r.ok && attempt < 3; attempt++) {
        await sleep(200)
        c.ws?.terminate?.()
        r = await open(c)
      }
      if (!r.ok) count(failed, r.why)
    })
    return {
      connected: clients.length - Object.values(failed).reduce((a, b) => a + b, 0),
      failed,
      ms: Math.round(nowMs() - t),
      closes: m.closes,
      errors: m.errors,
    }
  },

  begin: (msg) => {
    schedule = msg.schedule
    m = freshMetrics()
    for (const c of clients) {
      c.base = Math.max(c.lastSeq, 0)
      c.got = 0
    }
    return true
  },

  /** Waits for the stream to go quiet, then reports the schedule's results. */
  end: async (msg) => {
    const s = schedule
    const lastDue = dueAt(s, s.count - 1)
    const deadline = nowMs() + (msg.maxDrainMs ?? 10_000)
    while (nowMs() < deadline) {
      const quietFor = nowMs() - (m.lastAt ?? 0)
      if (nowMs() > lastDue + 200 && quietFor > (msg.quietMs ?? 500)) break
      await sleep(50)
    }
    let expected = 0
    let got = 0
    let lostClients = 0
    let stalledExpected = 0
    for (const c of clients) {
      const e = eventsForRoom(s, c.roomIdx)
      // Frames skipped by a snapshot (seq jumped) never arrived: count what was applied.
      const have = Math.min(c.got, e)
      if (c.stalled) {
        stalledExpected += e
        continue
      }
      expected += e
      got += have
      if (have < e) lostClients++
    }
    const sentAt = msg.sentAt ?? null
    if (process.env.BENCH_SAMPLES) {
      const dir = process.env.BENCH_SAMPLES
      await mkdir(dir, { recursive: true })
      await writeFile(
        path.join(dir, `${arm}-${s.name}-${process.pid}.tsv`),
        m.samples.tsv(s, sentAt),
      )
    }
    const measuredFrom = dueAt(s, s.warmup)
    const windowMs = lastDue - measuredFrom
    const fromDue = m.samples.latencies((g) => dueAt(s, g))
    // (g): the events due outside the fault windows ([from, to] monotonic ms) only.
    const faults = msg.exclude ?? null
    const outsideFaults = faults
      ? m.samples.latencies((g) => {
          const due = dueAt(s, g)
          return faults.some(([from, to]) => due >= from && due <= to) ? undefined : due
        }).all
      : null
    const fromSent = sentAt ? m.samples.latencies((g) => sentAt[g]) : null
    const result = {
      latency: fromDue.all.summary(),
      latencyExcludingStalled: fromDue.kept.summary(),
      ...(outsideFaults ? { latencyOutsideFaults: outsideFaults.summary() } : {}),
      fromSend: fromSent && {
        latency: fromSent.all.summary(),
        latencyExcludingStalled: fromSent.kept.summary(),
      },
      received: m.received,
      expected,
      lost: expected - got,
      lostClients,
      stalledClients: clients.filter((c) => c.stalled).length,
      stalledExpected,
      dups: m.dups,
      gaps: m.gaps,
      mismatched: m.mismatched,
      deliveredPerSec: windowMs > 0 ? Math.round((m.measured / windowMs) * 1000) : null,
      lastDeliveryAfterLastDueMs: m.lastAt ? Math.round(m.lastAt - lastDue) : null,
      closes: m.closes,
      errors: m.errors,
      hist: fromDue.all.encode(),
    }
    schedule = null
    return result
  },

  /** Stops reading on one client in `every` (its TCP receive window fills up). */
  stall: (msg) => {
    let n = 0
    for (const c of clients) {
      if (c.i % msg.every !== 0) continue
      stallCohort.add(c.i)
      const sock = arm === 'sio' ? c.sock?.io?.engine?.transport?.ws?._socket : c.ws?._socket
      if (sock) {
        sock.pause()
        c.stalled = true
        n++
      }
    }
    return { stalled: n }
  },

  /** Every (non-stalled) client drops its socket at once and reconnects resuming from its seq. */
  storm: async (msg) => {
    const targets = clients.filter((c) => !c.stalled)
    const t0 = nowMs()
    storm = {
      t0,
      hist: new LatencyHistogram(),
      pending: new Set(targets.map((c) => c.i)),
      recovered: 0,
      snapshot: 0,
      opened: [],
      resyncedAt: [],
    }
    const finished = new Promise((r) => {
      storm.done = r
    })
    const gapsBefore = m.gaps
    if (arm === 'sio') {
      // Closing the engine is a transport loss: the client reconnects by itself and Socket.IO's
      // connection state recovery replays what it missed.
      for (const c of targets) c.sock.io.engine.close()
    } else {
      for (const c of targets) c.ws.terminate()
      storm.terminatedMs = nowMs() - t0
      const reconnect = async (c) => {
        let r = await open(c)
        for (let attempt = 0; !r.ok && attempt < 20 && storm.pending.has(c.i); attempt++) {
          await sleep(100)
          r = await open(c)
        }
      }
      // Every client reconnects at once, but the generator yields to its event loop between
      // small batches: creating 10,000 sockets costs it ~2 s of CPU, and in one synchronous loop
      // no request would leave before the last socket was made (real clients do not wait on
      // each other). Nothing is throttled: all reconnects are in flight ~2 s after the drop.
      const opening = []
      const batch = msg.batch ?? 250
      for (let k = 0; k < targets.length; k++) {
        opening.push(reconnect(targets[k]))
        if ((k + 1) % batch === 0) await new Promise(setImmediate)
      }
      storm.issuedMs = nowMs() - t0
      await Promise.all(opening)
    }
    await Promise.race([finished, sleep(msg.timeoutMs ?? 15_000)])
    const out = {
      clients: targets.length,
      resynced: targets.length - storm.pending.size,
      recovered: storm.recovered,
      snapshot: storm.snapshot,
      notResynced: storm.pending.size,
      resyncMs: storm.hist.summary(),
      gapsDuringStorm: m.gaps - gapsBefore,
      wallMs: Math.round(nowMs() - t0),
      timeline: {
        terminatedMs: Math.round(storm.terminatedMs ?? 0),
        issuedMs: Math.round(storm.issuedMs ?? 0),
        openedPerSecond: perSecond(storm.opened),
        resyncedPerSecond: perSecond(storm.resyncedAt),
      },
    }
    storm = null
    return out
  },

  /**
   * (g) A node died (the orchestrator killed it): its clients' sockets are gone. Each reconnects
   * at once to one of the surviving nodes (`to`, in turn), resuming from its seq as a browser
   * behind a load balancer would; reports when each was resynced, measured from `t0` (the kill).
   */
  failover: async (msg) => {
    const targets = clients.filter((c) => c.url === msg.from && !c.stalled)
    const t0 = msg.t0 ?? nowMs()
    storm = {
      t0,
      hist: new LatencyHistogram(),
      pending: new Set(targets.map((c) => c.i)),
      recovered: 0,
      snapshot: 0,
      opened: [],
      resyncedAt: [],
    }
    const finished = new Promise((r) => {
      storm.done = r
    })
    if (targets.length === 0) storm.done()
    const gapsBefore = m.gaps
    const reconnect = async (c, k) => {
      c.ws?.terminate()
      c.url = msg.to[k % msg.to.length]
      let r = await open(c)
      for (let attempt = 0; !r.ok && attempt < 50 && storm.pending.has(c.i); attempt++) {
        await sleep(100)
        r = await open(c)
      }
    }
    await Promise.all(targets.map((c, k) => reconnect(c, k)))
    await Promise.race([finished, sleep(msg.timeoutMs ?? 15_000)])
    const out = {
      clients: targets.length,
      resynced: targets.length - storm.pending.size,
      recovered: storm.recovered,
      snapshot: storm.snapshot,
      notResynced: storm.pending.size,
      resyncMs: storm.hist.summary(),
      gapsDuringFailover: m.gaps - gapsBefore,
    }
    storm = null
    return out
  },

  closeAll: async () => {
    for (const c of clients) {
      if (c.sock) c.sock.close()
      else c.ws?.terminate()
    }
    clients = []
    stallCohort.clear()
    await sleep(100)
    return true
  },
})

process.send?.({ event: 'ready' })
