import type { RoomEventFrame } from '@repo/discord-integration/contracts'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { BusFrame, EventBus } from '../../src/features/presence/event-bus'
import {
  createPresenceService,
  type PresenceService,
} from '../../src/features/presence/presence-service.server'
import { createRedisEventBus } from '../../src/features/presence/redis-event-bus.server'
import { roomState, sf } from '../presence/fixtures'
import { cookieAuth, RoomTable, VoiceWorld } from '../presence/voice-world'
import { until } from '../rooms/harness'
import { REDIS_URL, testPrefix } from './nodes'

const logger = pino({ level: 'silent' })
const buses: EventBus[] = []
const services: PresenceService[] = []
let run: ReturnType<typeof testPrefix>

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()))
  await Promise.all(buses.splice(0).map((b) => b.close()))
  await run?.cleanup()
})

function bus(prefix: string): EventBus {
  const b = createRedisEventBus({ redis: REDIS_URL, keyPrefix: `${prefix}presence:` })
  buses.push(b)
  return b
}

async function collect(b: EventBus, roomId: string): Promise<RoomEventFrame[]> {
  const frames: RoomEventFrame[] = []
  const sub = b.subscribe(roomId, (f: BusFrame) => frames.push(f.frame))
  await sub.ready
  return frames
}

describe('voice frames exactly once across nodes (Redis bus dedupe)', () => {
  it('the same dedupe key from two buses is stamped and delivered once; other keys pass', async () => {
    run = testPrefix()
    const one = bus(run.prefix)
    const two = bus(run.prefix)
    const received = await collect(two, 'room-a')
    const body = { type: 'room.closing', closesAt: 1 } as const
    const first = await one.publish('room-a', body, { dedupeKey: 'k1' })
    const second = await two.publish('room-a', body, { dedupeKey: 'k1' })
    expect(first.duplicate).toBeUndefined()
    expect(second.duplicate).toBe(true)
    expect(second.frame.seq).toBe(first.frame.seq)
    expect(second.text).toBe(first.text)
    await one.publish('room-a', body, { dedupeKey: 'k2' })
    await one.publish('room-a', body) // no key: always published
    // The same key on another room is another frame.
    const other = await one.publish('room-b', body, { dedupeKey: 'k1' })
    expect(other.duplicate).toBeUndefined()
    await until(() => received.length >= 3)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(received.map((f) => f.seq)).toEqual([1, 2, 3])
    expect((await two.position('room-a')).seq).toBe(3)
  })

  it('two nodes routing the same voice stream entries publish each frame once; resync differences never', async () => {
    run = testPrefix()
    // Both nodes' mirrors of one voice stream: each event with the same epoch and entry id.
    const voice = new VoiceWorld({ stream: { epoch: 'epoch-1' } })
    const rooms = new RoomTable()
    const owner = sf(1)
    const channel = sf(900)
    rooms.add('room-v', channel, roomState(owner, [owner]))
    for (let i = 0; i < 2; i++) {
      services.push(
        createPresenceService({
          voice,
          rooms,
          logger,
          config: { PUBLIC_URL: 'http://127.0.0.1:3996' },
          authenticate: cookieAuth,
          bus: bus(run.prefix),
        }),
      )
    }
    const observer = bus(run.prefix)
    const received = await collect(observer, 'room-v')
    voice.join(owner, channel)
    voice.toggleMute(owner)
    voice.toggleMute(owner)
    voice.leave(owner)
    await until(() => received.length >= 4)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(received.map((f) => [f.seq, f.type])).toEqual([
      [1, 'voice.joined'],
      [2, 'voice.updated'],
      [3, 'voice.updated'],
      [4, 'voice.left'],
    ])
    // A difference a node computed after reloading the voice snapshot is local to it: the room
    // stream gets nothing (each node sends its own sockets a snapshot instead).
    voice.resync((world) => world.join(owner, channel))
    voice.join(sf(2), channel) // the next stream entry is published as usual
    await until(() => received.length >= 5)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(
      received.slice(4).map((f) => [f.seq, f.type, 'member' in f ? f.member.userId : '']),
    ).toEqual([[5, 'voice.joined', sf(2)]])
  })
})
