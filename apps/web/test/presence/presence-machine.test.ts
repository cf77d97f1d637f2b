import { PresenceCloseCode, type ServerFrame } from '@repo/discord-integration/contracts'
import { describe, expect, it } from 'vitest'
import {
  BACKOFF_MAX_MS,
  BACKOFF_MIN_MS,
  backoffDelay,
  type Effect,
  initialState,
  type MachineEvent,
  type MachineState,
  transition,
} from '../../src/features/presence/presence-machine'

function run(state: MachineState, ...events: MachineEvent[]) {
  let s = state
  const effects: Effect[] = []
  for (const e of events) {
    const t = transition(s, e)
    s = t.state
    effects.push(...t.effects)
  }
  return { state: s, effects }
}

const subscribed: ServerFrame = {
  v: 1,
  type: 'subscribed',
  room: 'room_alpha_0001',
  seq: 0,
  ts: 1,
  recovered: false,
}

/** A machine with an open, confirmed socket. */
function connected() {
  const r = run(initialState(), { type: 'connect' })
  return run(
    r.state,
    { type: 'open', generation: r.state.generation },
    {
      type: 'message',
      generation: r.state.generation,
      frame: subscribed,
    },
  )
}

describe('presence machine', () => {
  it('opens a socket on connect and subscribes every room on open', () => {
    const first = transition(initialState(), { type: 'connect' })
    expect(first.state.status).toBe('connecting')
    expect(first.effects).toEqual([{ type: 'openSocket', generation: 1 }])
    const opened = transition(first.state, { type: 'open', generation: 1 })
    expect(opened.state.status).toBe('connected')
    expect(opened.effects).toEqual([{ type: 'subscribeAll' }])
    // a second connect does not open a second socket
    expect(transition(opened.state, { type: 'connect' }).effects).toEqual([])
  })

  it('delivers frames of the current socket and ignores stale sockets', () => {
    const { state } = connected()
    const frame = transition(state, {
      type: 'message',
      generation: state.generation,
      frame: subscribed,
    })
    expect(frame.effects).toEqual([{ type: 'deliver', frame: subscribed }])
    expect(
      transition(state, { type: 'message', generation: state.generation - 1, frame: subscribed })
        .effects,
    ).toEqual([])
    // a late close of an older socket changes nothing
    const stale = transition(state, {
      type: 'close',
      generation: state.generation - 1,
      code: 1006,
      rand: 0.5,
    })
    expect(stale.state).toBe(state)
    expect(stale.effects).toEqual([])
    // a late open of an older socket gets that socket closed
    expect(transition(state, { type: 'open', generation: 99 }).effects).toEqual([
      { type: 'closeSocket', generation: 99 },
    ])
  })

  it('backs off with full jitter between 500 ms and 20 s, growing per failed attempt', () => {
    expect(backoffDelay(0, 0.99)).toBe(BACKOFF_MIN_MS)
    expect(backoffDelay(1, 0)).toBe(500)
    expect(backoffDelay(1, 0.999)).toBe(999)
    expect(backoffDelay(3, 0.5)).toBe(500 + 0.5 * 3500)
    expect(backoffDelay(30, 0.999999)).toBeLessThanOrEqual(BACKOFF_MAX_MS)
    expect(backoffDelay(30, 0.999999)).toBeGreaterThan(BACKOFF_MAX_MS - 10)
    let { state } = connected()
    const delays: number[] = []
    for (let i = 0; i < 8; i++) {
      const closed = transition(state, {
        type: 'close',
        generation: state.generation,
        code: 1006,
        rand: 0.999,
      })
      const schedule = closed.effects.find((e) => e.type === 'scheduleReconnect')
      if (schedule?.type !== 'scheduleReconnect') throw new Error('no reconnect scheduled')
      delays.push(schedule.delayMs)
      // the timer fires, the new socket fails before it is confirmed
      state = run(closed.state, { type: 'timer' }).state
      expect(state.status).toBe('connecting')
    }
    expect(delays).toEqual([500, 999, 1998, 3996, 7992, 15984, 19980, 19980])
  })

  it('resets the attempt count when a subscription is confirmed, not when the socket opens', () => {
    let { state } = connected()
    state = run(
      state,
      { type: 'close', generation: state.generation, code: 1006, rand: 0 },
      { type: 'timer' },
    ).state
    state = run(state, { type: 'open', generation: state.generation }).state
    expect(state.attempt).toBe(1)
    state = run(state, { type: 'message', generation: state.generation, frame: subscribed }).state
    expect(state.attempt).toBe(0)
  })

  it('follows the close policy: stop, resync at once, reconnect with backoff', () => {
    const { state } = connected()
    const stop = transition(state, {
      type: 'close',
      generation: state.generation,
      code: PresenceCloseCode.TooManySockets,
      rand: 0,
    })
    expect(stop.state).toMatchObject({ status: 'disconnected', stoppedBy: 4010 })
    expect(stop.effects).toEqual([])
    expect(transition(stop.state, { type: 'timer' }).effects).toEqual([])
    expect(transition(stop.state, { type: 'online' }).effects).toEqual([])
    // only an explicit connect (e.g. a new page) tries again
    expect(transition({ ...stop.state, wanted: false }, { type: 'connect' }).effects).toEqual([
      { type: 'openSocket', generation: stop.state.generation + 1 },
    ])
    for (const code of [4001, 4002, 4011, 4014]) {
      expect(
        transition(state, { type: 'close', generation: state.generation, code, rand: 0 }).state
          .stoppedBy,
      ).toBe(code)
    }
    const resync = transition(state, {
      type: 'close',
      generation: state.generation,
      code: PresenceCloseCode.SlowConsumer,
      rand: 0.9,
    })
    expect(resync.effects).toEqual([{ type: 'scheduleReconnect', delayMs: 0 }])
    // a second resync in a row backs off
    const again = run(
      resync.state,
      { type: 'timer' },
      { type: 'open', generation: resync.state.generation + 1 },
    )
    const second = transition(again.state, {
      type: 'close',
      generation: again.state.generation,
      code: 4009,
      rand: 0,
    })
    expect(second.effects).toEqual([{ type: 'scheduleReconnect', delayMs: 500 }])
    for (const code of [4000, 4008, 4012, 4013, 1001, 1006, 4999]) {
      const r = transition(state, { type: 'close', generation: state.generation, code, rand: 0 })
      expect(r.effects).toEqual([{ type: 'scheduleReconnect', delayMs: 500 }])
    }
  })

  it('closes on offline, waits without retrying, and reconnects at once when back online', () => {
    const { state } = connected()
    const off = transition(state, { type: 'offline' })
    expect(off.state).toMatchObject({ status: 'disconnected', online: false })
    expect(off.effects).toEqual([{ type: 'closeSocket', generation: state.generation }])
    // the closed socket's late onclose is stale
    expect(
      transition(off.state, { type: 'close', generation: state.generation, code: 1006, rand: 0 })
        .effects,
    ).toEqual([])
    expect(transition(off.state, { type: 'timer' }).effects).toEqual([])
    const on = transition(off.state, { type: 'online' })
    expect(on.state.status).toBe('connecting')
    expect(on.effects).toEqual([{ type: 'openSocket', generation: off.state.generation + 1 }])
  })

  it('does not schedule retries while offline and cancels a pending one when online returns', () => {
    const { state } = connected()
    const dropped = transition(state, {
      type: 'close',
      generation: state.generation,
      code: 1006,
      rand: 0,
    })
    expect(dropped.state.reconnectPending).toBe(true)
    const on = transition(dropped.state, { type: 'online' })
    expect(on.effects).toEqual([
      { type: 'cancelReconnect' },
      { type: 'openSocket', generation: state.generation + 1 },
    ])
    const offFirst = run(state, { type: 'offline' })
    expect(
      transition(offFirst.state, {
        type: 'close',
        generation: offFirst.state.generation,
        code: 1006,
        rand: 0,
      }).effects,
    ).toEqual([])
    const browserOffline = run(initialState(false), { type: 'connect' })
    expect(browserOffline.effects).toEqual([])
    expect(transition(browserOffline.state, { type: 'online' }).effects).toEqual([
      { type: 'openSocket', generation: 1 },
    ])
  })

  it('tears everything down on disconnect and ignores what the old socket does afterwards', () => {
    const { state } = connected()
    const down = transition(state, { type: 'disconnect' })
    expect(down.state).toMatchObject({ status: 'disconnected', wanted: false })
    expect(down.effects).toEqual([{ type: 'closeSocket', generation: state.generation }])
    expect(
      transition(down.state, { type: 'close', generation: state.generation, code: 1006, rand: 0 })
        .effects,
    ).toEqual([])
    expect(transition(down.state, { type: 'timer' }).effects).toEqual([])
    expect(transition(down.state, { type: 'online' }).effects).toEqual([])
    const pending = transition(state, {
      type: 'close',
      generation: state.generation,
      code: 1006,
      rand: 0,
    })
    expect(transition(pending.state, { type: 'disconnect' }).effects).toEqual([
      { type: 'cancelReconnect' },
    ])
  })
})
