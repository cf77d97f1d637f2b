// Oversized WebSocket frames against the production server, in the benchmark's process layout: the
// server runs as its own process (scripts/e2e.sh) and its memory is read from outside, as the
// benchmark does (/proc/<pid>, bench/lib/procstat.mjs). 30 signed-in sockets (6 users x 5, the
// per-user cap) each send a 100 MiB frame. The transport refuses such a frame as soon as its
// header arrives (ws `maxPayload` = MAX_CLIENT_FRAME_BYTES, vite.config.ts): each gets close 1009
// and the server's memory stays flat. Before, `ws` read every frame whole (its default limit is
// 100 MiB) before the app's own 4096-byte check: 30 such frames took the server past 3 GB.
//   BASE_URL=http://127.0.0.1:3100 EMULATOR_URL=... node --test tests/e2e/oversized-frames.e2e.mjs
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { test } from 'node:test'
import WebSocket from 'ws'
import { mib, readProc } from '../../../../bench/lib/procstat.mjs'
import { BASE_URL } from './browser.mjs'
import { newEmulatorUser, signInOverHttp } from './http-sign-in.mjs'

const FRAME_BYTES = 100 * 1024 * 1024
const USERS = 6
const SOCKETS_PER_USER = 5
/**
 * Growth of the server's RSS the attack may cause. Reading every frame whole took it from 128 to
 * 3,482 MiB. Refused, the frames still cross the socket (the transport reads and discards the rest
 * of a refused frame while the close handshake runs): 3 GiB of reads in 64 KiB buffers, garbage
 * that the next collections free, measured at +45 to +68 MiB (+16 MiB for 1 MiB frames).
 */
const MAX_GROWTH_MIB = 128

function serverPid() {
  const { port } = new URL(BASE_URL)
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' })
  const pid = out.match(/pid=(\d+)/)?.[1]
  assert.ok(pid, `no process found listening on port ${port}`)
  return Number(pid)
}

/**
 * One attacker socket, written by hand so the client never holds 100 MiB itself: the opening
 * handshake, then a masked text frame header announcing FRAME_BYTES, then the whole payload in
 * 1 MiB writes, as an attacker would, ignoring the server's close frame (and its half-close: the
 * socket is half-open). Resolves, once the connection is gone, with the server's close code (null
 * if none arrived), how many payload bytes went out and the socket error, if any.
 */
function attack(cookie) {
  const { hostname, port } = new URL(BASE_URL)
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true })
    let buffered = Buffer.alloc(0)
    let upgraded = false
    let closeCode = null
    let sent = 0
    let error = null
    socket.on('error', (e) => {
      error = e.code ?? e.message
    })
    socket.on('close', () => {
      if (upgraded) resolve({ closeCode, sent, error })
      else reject(new Error(`connection closed before the upgrade: ${error}`))
    })
    socket.on('connect', () => {
      socket.write(
        [
          'GET /api/ws HTTP/1.1',
          `Host: ${hostname}:${port}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
          'Sec-WebSocket-Version: 13',
          `Origin: ${BASE_URL}`,
          `Cookie: ${cookie}`,
          '',
          '',
        ].join('\r\n'),
      )
    })
    socket.on('data', (chunk) => {
      if (closeCode !== null) return
      buffered = Buffer.concat([buffered, chunk])
      if (!upgraded) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buffered.subarray(0, end).toString('latin1')
        if (!head.startsWith('HTTP/1.1 101')) {
          error = `upgrade refused: ${head.split('\r\n')[0]}`
          socket.destroy()
          return
        }
        upgraded = true
        buffered = buffered.subarray(end + 4)
        void send()
      }
      // Server frames (unmasked): skip any until the close frame, whose payload starts with the code.
      while (buffered.length >= 2) {
        const short = buffered[1] & 0x7f
        const at = short === 126 ? 4 : short === 127 ? 10 : 2
        if (buffered.length < at) return
        const length =
          short === 126
            ? buffered.readUInt16BE(2)
            : short === 127
              ? Number(buffered.readBigUInt64BE(2))
              : short
        if (buffered.length < at + length) return
        if ((buffered[0] & 0x0f) === 0x8) {
          closeCode = length >= 2 ? buffered.readUInt16BE(at) : 1005
          return
        }
        buffered = buffered.subarray(at + length)
      }
    })
    const send = async () => {
      const mask = randomBytes(4)
      const header = Buffer.alloc(14)
      header[0] = 0x81 // FIN, text
      header[1] = 0x80 | 127 // masked, 64-bit length
      header.writeBigUInt64BE(BigInt(FRAME_BYTES), 2)
      mask.copy(header, 10)
      socket.write(header)
      // 1 MiB of 'a', masked (a multiple of 4 bytes, so every write starts at mask offset 0).
      const chunk = Buffer.alloc(1024 * 1024, 'a')
      for (let i = 0; i < chunk.length; i++) chunk[i] ^= mask[i % 4]
      while (sent < FRAME_BYTES && !socket.destroyed) {
        sent += chunk.length
        if (!socket.write(chunk)) {
          await new Promise((resolve) => {
            const go = () => {
              socket.off('drain', go)
              socket.off('close', go)
              resolve()
            }
            socket.on('drain', go)
            socket.on('close', go)
          })
        }
      }
      socket.end()
    }
  })
}

/** A well-behaved client of the presence protocol: opens, pings, expects a pong. */
async function politeSocket(cookie) {
  const ws = new WebSocket(`${BASE_URL.replace(/^http/, 'ws')}/api/ws`, {
    headers: { cookie, origin: BASE_URL },
  })
  const closes = []
  ws.on('close', (code) => closes.push(code))
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  let id = 0
  const ping = () =>
    new Promise((resolve, reject) => {
      const want = ++id
      const timer = setTimeout(() => reject(new Error('no pong within 10 s')), 10_000)
      const onMessage = (data) => {
        const frame = JSON.parse(String(data))
        if (frame.type === 'pong' && frame.id === want) {
          clearTimeout(timer)
          ws.off('message', onMessage)
          resolve(frame)
        }
      }
      ws.on('message', onMessage)
      ws.send(JSON.stringify({ v: 1, type: 'ping', id: want }))
    })
  return { ws, closes, ping }
}

test('30 sockets sending 100 MiB frames are refused with 1009 and leave the server memory flat', async (t) => {
  // USERS attackers and one well-behaved user, each signed in for real
  const cookies = []
  for (let i = 0; i <= USERS; i++) {
    const userId = await newEmulatorUser(`frame_tester_${i}`)
    cookies.push((await signInOverHttp(userId)).cookie)
  }
  const pid = serverPid()

  const polite = await politeSocket(cookies[USERS])
  t.after(() => polite.ws.terminate())
  await polite.ping()

  const before = readProc(pid).rss
  let peak = before
  const sampler = setInterval(() => {
    const rss = readProc(pid)?.rss ?? 0
    if (rss > peak) peak = rss
  }, 50)
  let results
  try {
    results = await Promise.all(
      Array.from({ length: USERS * SOCKETS_PER_USER }, (_, i) =>
        attack(cookies[Math.floor(i / SOCKETS_PER_USER)]),
      ),
    )
  } finally {
    clearInterval(sampler)
  }
  const after = readProc(pid).rss
  peak = Math.max(peak, after)
  const errors = results.map((r) => r.error).filter(Boolean)
  t.diagnostic(
    `server RSS before ${mib(before)} MiB, peak ${mib(peak)} MiB, after ${mib(after)} MiB; ` +
      `payload sent per socket: ${results.map((r) => mib(r.sent)).join(', ')} MiB; ` +
      `socket errors: ${errors.join(', ') || 'none'}`,
  )

  assert.deepEqual(
    results.map((r) => r.closeCode),
    Array(results.length).fill(1009),
    'every oversized frame is refused with close 1009 (Message Too Big)',
  )
  assert.ok(
    peak - before < MAX_GROWTH_MIB * 1048576,
    `server RSS grew by ${mib(peak - before)} MiB (limit ${MAX_GROWTH_MIB})`,
  )

  // The other sockets are unaffected: still open, still answered.
  await polite.ping()
  assert.deepEqual(polite.closes, [])
})
