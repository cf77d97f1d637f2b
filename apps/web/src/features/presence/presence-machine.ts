import {
  CLIENT_RECONNECT_BACKOFF,
  closePolicy,
  backoffDelay as jitteredDelay,
  type ServerFrame,
} from '@repo/discord-integration/contracts'

/**
 * The browser's presence connection as a pure state machine: `transition(state, event)` returns
 * the next state and the effects to perform (presence-client.ts performs them). Every socket
 * gets a generation id; events from an older socket are ignored, so a late `onclose` of a
 * replaced socket can never trigger a second connection.
 */

export type ConnectionStatus = 'disconnected' | 'connecting' | 'connected'

export interface MachineState {
  readonly status: ConnectionStatus
  /** Id of the current (or last) socket; events carrying another id are stale. */
  readonly generation: number
  /** Consecutive failed attempts; reset once a subscription is confirmed (not on open). */
  readonly attempt: number
  /** Someone on the page wants the connection. */
  readonly wanted: boolean
  /** The browser says it is online. */
  readonly online: boolean
  /** Set when a close policy said stop: no reconnect until the next explicit connect. */
  readonly stoppedBy: number | null
  /** A reconnect timer is pending. */
  readonly reconnectPending: boolean
}

export type MachineEvent =
  | { type: 'connect' }
  | { type: 'disconnect' }
  | { type: 'open'; generation: number }
  | { type: 'message'; generation: number; frame: ServerFrame }
  /** `rand` in [0, 1) draws the backoff jitter (kept outside so the machine stays pure). */
  | { type: 'close'; generation: number; code: number; rand: number }
  | { type: 'online' }
  | { type: 'offline' }
  | { type: 'timer' }

export type Effect =
  | { type: 'openSocket'; generation: number }
  | { type: 'closeSocket'; generation: number }
  | { type: 'scheduleReconnect'; delayMs: number }
  | { type: 'cancelReconnect' }
  /** (Re)send a subscribe for every room the page shows, with `since` when known. */
  | { type: 'subscribeAll' }
  | { type: 'deliver'; frame: ServerFrame }

export interface Transition {
  state: MachineState
  effects: Effect[]
}

/** Smallest and largest reconnect delays. */
export const BACKOFF_MIN_MS = CLIENT_RECONNECT_BACKOFF.minMs
export const BACKOFF_MAX_MS = CLIENT_RECONNECT_BACKOFF.maxMs

/**
 * Full-jitter exponential backoff: uniform in [500 ms, min(20 s, 500 ms * 2^attempt)].
 * @param attempt - 0 for the first retry
 * @param rand - a number in [0, 1)
 */
export function backoffDelay(attempt: number, rand: number): number {
  return jitteredDelay(attempt + 1, CLIENT_RECONNECT_BACKOFF, rand)
}

export function initialState(online = true): MachineState {
  return {
    status: 'disconnected',
    generation: 0,
    attempt: 0,
    wanted: false,
    online,
    stoppedBy: null,
    reconnectPending: false,
  }
}

const same = (state: MachineState): Transition => ({ state, effects: [] })

function open(state: MachineState, extra: Effect[] = []): Transition {
  const generation = state.generation + 1
  return {
    state: { ...state, status: 'connecting', generation, reconnectPending: false },
    effects: [...extra, { type: 'openSocket', generation }],
  }
}

/** Ends the current socket (if any) so that its late events are stale. */
function teardown(state: MachineState): { state: MachineState; effects: Effect[] } {
  const effects: Effect[] = []
  if (state.reconnectPending) effects.push({ type: 'cancelReconnect' })
  if (state.status !== 'disconnected')
    effects.push({ type: 'closeSocket', generation: state.generation })
  return {
    state: {
      ...state,
      status: 'disconnected',
      generation: state.status !== 'disconnected' ? state.generation + 1 : state.generation,
      reconnectPending: false,
    },
    effects,
  }
}

export function transition(state: MachineState, event: MachineEvent): Transition {
  switch (event.type) {
    case 'connect': {
      if (state.wanted && state.stoppedBy === null) return same(state)
      const next = { ...state, wanted: true, stoppedBy: null, attempt: 0 }
      if (next.status !== 'disconnected' || !next.online) return same(next)
      return open(next, next.reconnectPending ? [{ type: 'cancelReconnect' }] : [])
    }
    case 'disconnect': {
      const down = teardown(state)
      return { state: { ...down.state, wanted: false, attempt: 0 }, effects: down.effects }
    }
    case 'open': {
      if (event.generation !== state.generation || state.status !== 'connecting') {
        return { state, effects: [{ type: 'closeSocket', generation: event.generation }] }
      }
      return { state: { ...state, status: 'connected' }, effects: [{ type: 'subscribeAll' }] }
    }
    case 'message': {
      if (event.generation !== state.generation || state.status !== 'connected') return same(state)
      const { frame } = event
      const confirmed = frame.type === 'subscribed' || frame.type === 'presence.snapshot'
      return {
        state: confirmed && state.attempt !== 0 ? { ...state, attempt: 0 } : state,
        effects: [{ type: 'deliver', frame }],
      }
    }
    case 'close': {
      if (event.generation !== state.generation || state.status === 'disconnected')
        return same(state)
      const policy = closePolicy(event.code)
      const down: MachineState = { ...state, status: 'disconnected' }
      if (policy === 'stop') return same({ ...down, stoppedBy: event.code })
      if (!down.wanted || !down.online) return same(down)
      // resync: reconnect at once the first time (the server asked us to resume), else back off.
      const delayMs =
        policy === 'resync' && state.attempt === 0 ? 0 : backoffDelay(state.attempt, event.rand)
      return {
        state: { ...down, attempt: state.attempt + 1, reconnectPending: true },
        effects: [{ type: 'scheduleReconnect', delayMs }],
      }
    }
    case 'timer': {
      const next = { ...state, reconnectPending: false }
      if (
        next.status !== 'disconnected' ||
        !next.wanted ||
        !next.online ||
        next.stoppedBy !== null
      ) {
        return same(next)
      }
      return open(next)
    }
    case 'online': {
      const next = { ...state, online: true }
      if (next.status !== 'disconnected' || !next.wanted || next.stoppedBy !== null)
        return same(next)
      // Back online: try at once instead of waiting out the backoff.
      return open(next, next.reconnectPending ? [{ type: 'cancelReconnect' }] : [])
    }
    case 'offline': {
      const down = teardown(state)
      return { state: { ...down.state, online: false }, effects: down.effects }
    }
  }
}
