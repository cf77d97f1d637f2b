/**
 * Reproduces the server death seen in scenario (c) of the full benchmark, without sockets:
 * `node_modules/.bin/tsx bench/repro/room-touch-wave.ts [rooms=2500]`.
 *
 * RoomService touches a room (store.mutate -> lastActivityAt) on its first voice event after 60 s
 * of quiet. FileRoomStore.mutate serialises the WHOLE store (JSON.stringify of every room) on
 * every mutation and queues the string for a sequential write. When many rooms touch at once
 * (the bench seeded 2,500 rooms in the same instant and its 5,000-event burst landed just after
 * the 60 s mark; in production: the first minute after a restart with many active rooms), every
 * queued write holds its own ~1.5 MB copy of the store: 2,500 x 1.5 MB exceeds the V8 heap and
 * the process aborts with "FATAL ERROR: Reached heap limit".
 *
 * Prints the peak RSS and the time until every mutation is on disk (or dies with the OOM).
 * Since FileRoomStore coalesces its writes (one in flight, one waiting), it finishes in
 * milliseconds; it stays here as the regression check for that fix.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileRoomStore } from '../../apps/web/src/features/rooms/file-room-store.server'

const rooms = Number(process.argv[2] ?? 2500)
const dir = await mkdtemp(join(tmpdir(), 'tv-touch-wave-'))
const now = Date.now()
const id = (n: number, prefix: string) => `${prefix}${String(n).padStart(17, '0')}`
const records = Array.from({ length: rooms }, (_, i) => ({
  id: `benchroom${String(i).padStart(6, '0')}`,
  name: `Bench ${i}`,
  guildId: id(1, '1'),
  channelId: id(i, '3'),
  categoryId: id(1, '4'),
  ownerId: id(i * 4, '2'),
  players: [0, 1, 2, 3].map((p) => ({
    userId: id(i * 4 + p, '2'),
    username: `user${i * 4 + p}`,
    globalName: null,
    avatar: null,
    joinedAt: now,
  })),
  status: 'open',
  createdAt: now,
  closesAt: null,
  inviteVersion: 0,
  inviteExpiresAt: now + 86_400_000,
  inviteToken: 'bench-invite-token',
  lastActivityAt: now,
}))
await writeFile(
  join(dir, 'rooms.json'),
  JSON.stringify({ version: 1, rooms: records, categories: [] }),
)
const store = new FileRoomStore(join(dir, 'rooms.json'))
await store.load()
let peak = 0
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss)
}, 20)
const t0 = performance.now()
// What RoomService.#touch does for each room, all rooms at once.
await Promise.all(
  records.map((r) =>
    store.mutate(r.id, (room) => ({
      next: room ? { ...room, lastActivityAt: Date.now() } : null,
      result: null,
    })),
  ),
)
clearInterval(sampler)
console.log(
  `${rooms} touches on disk in ${Math.round(performance.now() - t0)} ms, peak RSS ${Math.round(peak / 2 ** 20)} MiB`,
)
await rm(dir, { recursive: true, force: true })
