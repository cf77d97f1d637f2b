import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { APIBaseVoiceState, GatewayDispatchPayload } from 'discord-api-types/v10'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChannelIndex } from '../src/voice/channel-index'
import { applyVoiceEvent, membersOf } from '../src/voice/voice-mirror'
import type { VoiceStoreState } from '../src/voice/voice-state-reducer'
import {
  applyDispatch,
  cloneVoiceStoreState,
  createVoiceStoreState,
  reduce,
} from '../src/voice/voice-state-reducer'
import type { Flags } from './support/dispatch'
import {
  channelDelete,
  guildCreate,
  memberRemove,
  OTHER_GUILD,
  ready,
  resumed,
  voiceState,
  vsu,
} from './support/dispatch'

/** The simple model: who is where with which flags (the truth). */
interface Truth {
  channelId: string
  flags: Required<Flags>
}

/** Fixed seed for deterministic runs; set FC_SEED to explore other interleavings. */
const SEED = Number(process.env.FC_SEED ?? 20260806)

const USERS = [
  '200000000000000001',
  '200000000000000002',
  '200000000000000003',
  '200000000000000004',
]
const CHANNELS = ['300000000000000001', '300000000000000002', '300000000000000003']
const FLAG_NAMES = [
  'mute',
  'deaf',
  'selfMute',
  'selfDeaf',
  'selfVideo',
  'selfStream',
  'suppress',
] as const
const NO_FLAGS: Required<Flags> = {
  mute: false,
  deaf: false,
  selfMute: false,
  selfDeaf: false,
  selfVideo: false,
  selfStream: false,
  suppress: false,
}

type Op =
  | { kind: 'join'; user: number; channel: number }
  | { kind: 'leave'; user: number }
  | { kind: 'flag'; user: number; flag: (typeof FLAG_NAMES)[number] }
  | { kind: 'noop'; user: number }
  | { kind: 'remove'; user: number }
  | { kind: 'deleteChannel'; channel: number; withVsus: boolean }
  | { kind: 'otherGuild'; user: number; channel: number }
  | { kind: 'deliver'; count: number }
  | { kind: 'duplicate'; back: number; count: number }
  | { kind: 'resume' }
  | { kind: 'reidentify' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('join' as const), user: fc.nat(3), channel: fc.nat(2) }),
  fc.record({ kind: fc.constant('leave' as const), user: fc.nat(3) }),
  fc.record({
    kind: fc.constant('flag' as const),
    user: fc.nat(3),
    flag: fc.constantFrom(...FLAG_NAMES),
  }),
  fc.record({ kind: fc.constant('noop' as const), user: fc.nat(3) }),
  fc.record({ kind: fc.constant('remove' as const), user: fc.nat(3) }),
  fc.record({
    kind: fc.constant('deleteChannel' as const),
    channel: fc.nat(2),
    withVsus: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('otherGuild' as const), user: fc.nat(3), channel: fc.nat(2) }),
  fc.record({ kind: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 6 }) }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    back: fc.integer({ min: 1, max: 8 }),
    count: fc.integer({ min: 1, max: 4 }),
  }),
  fc.constant({ kind: 'resume' as const }),
  fc.constant({ kind: 'reidentify' as const }),
)

/** A fake Discord: the truth, a session log with sequence numbers, and a delivery pointer. */
class World {
  truth = new Map<string, Truth>()
  log: GatewayDispatchPayload[] = []
  delivered = 0
  session = 0

  constructor(private readonly deliverTo: (p: GatewayDispatchPayload) => void) {
    this.newSession()
  }

  private nextS(): number {
    return this.log.length + 1
  }

  private push(make: (s: number) => GatewayDispatchPayload): void {
    this.log.push(make(this.nextS()))
  }

  private state(userId: string): APIBaseVoiceState {
    const t = this.truth.get(userId)
    return voiceState(userId, t?.channelId ?? null, t?.flags ?? {}, `u${userId.slice(-1)}`)
  }

  newSession(): void {
    this.session++
    this.log = []
    this.delivered = 0
    this.push((s) => ready(s, `session-${this.session}`))
    const states = [...this.truth.keys()].map((u) => this.state(u))
    this.push((s) => guildCreate(s, states))
  }

  apply(op: Op): void {
    switch (op.kind) {
      case 'join': {
        const user = USERS[op.user] as string
        const prev = this.truth.get(user)
        this.truth.set(user, {
          channelId: CHANNELS[op.channel] as string,
          flags: prev?.flags ?? { ...NO_FLAGS },
        })
        this.push((s) => vsu(s, this.state(user)))
        return
      }
      case 'leave': {
        const user = USERS[op.user] as string
        this.truth.delete(user)
        this.push((s) => vsu(s, this.state(user)))
        return
      }
      case 'flag': {
        const user = USERS[op.user] as string
        const t = this.truth.get(user)
        if (!t) return
        t.flags = { ...t.flags, [op.flag]: !t.flags[op.flag] }
        this.push((s) => vsu(s, this.state(user)))
        return
      }
      case 'noop': {
        const user = USERS[op.user] as string
        if (this.truth.has(user)) this.push((s) => vsu(s, this.state(user)))
        return
      }
      case 'remove': {
        const user = USERS[op.user] as string
        this.truth.delete(user)
        this.push((s) => memberRemove(s, user))
        return
      }
      case 'deleteChannel': {
        const channel = CHANNELS[op.channel] as string
        const inside = [...this.truth].filter(([, t]) => t.channelId === channel).map(([u]) => u)
        for (const u of inside) this.truth.delete(u)
        this.push((s) => channelDelete(s, channel))
        if (op.withVsus) for (const u of inside) this.push((s) => vsu(s, this.state(u)))
        return
      }
      case 'otherGuild':
        this.push((s) =>
          vsu(s, voiceState(USERS[op.user] as string, CHANNELS[op.channel] as string), OTHER_GUILD),
        )
        return
      case 'deliver':
        this.deliver(op.count)
        return
      case 'duplicate': {
        // at-least-once delivery: an already delivered window comes again (not necessarily up to the end)
        const from = Math.max(0, this.delivered - op.back)
        for (const p of this.log.slice(from, Math.min(this.delivered, from + op.count)))
          this.deliverTo(p)
        return
      }
      case 'resume':
        // RESUME: everything after the last delivered sequence is replayed, then RESUMED.
        this.deliver(this.log.length)
        this.push((s) => resumed(s))
        return
      case 'reidentify':
        // The session is lost (op 9 false, 4007, restart…): undelivered dispatches are gone for good.
        this.newSession()
        return
    }
  }

  deliver(count: number): void {
    const until = Math.min(this.log.length, this.delivered + count)
    for (const p of this.log.slice(this.delivered, until)) this.deliverTo(p)
    this.delivered = until
  }
}

function expected(world: World): Map<string, Truth> {
  return world.truth
}

function observed(members: ReadonlyMap<string, VoiceMember>): Map<string, Truth> {
  const out = new Map<string, Truth>()
  for (const [u, m] of members) {
    out.set(u, {
      channelId: m.channelId,
      flags: {
        mute: m.mute,
        deaf: m.deaf,
        selfMute: m.selfMute,
        selfDeaf: m.selfDeaf,
        selfVideo: m.selfVideo,
        selfStream: m.selfStream,
        suppress: m.suppress,
      },
    })
  }
  return out
}

describe('voice state reducer (property)', () => {
  it('converges to the model under any interleaving; events applied to a mirror equal the store', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        let state: VoiceStoreState = createVoiceStoreState('100000000000000001')
        const events: VoiceEvent[] = []
        const mirror = new Map<string, VoiceMember>()
        const world = new World((payload) => {
          const r = reduce(state, { payload, receivedAt: 0 })
          state = r.state
          for (const e of r.events) {
            events.push(e)
            applyVoiceEvent(mirror, e)
          }
          // after every dispatch the mirror built from events equals the store
          expect(mirror).toEqual(state.members)
        })
        for (const op of ops) world.apply(op)
        // finally everything that happened reaches us, by replay or by a fresh snapshot
        world.apply({ kind: 'resume' })
        expect(observed(state.members)).toEqual(expected(world))
        expect(events.map((e) => e.feedSeq)).toEqual(events.map((_, i) => i + 1))
        expect(state.feedSeq).toBe(events.length)
        for (const m of state.members.values()) expect(m.username).toBe(`u${m.userId.slice(-1)}`)
      }),
      { numRuns: 400, seed: SEED },
    )
  })

  it('a re-identify after missed events converges without replay', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        let state: VoiceStoreState = createVoiceStoreState('100000000000000001')
        const mirror = new Map<string, VoiceMember>()
        const world = new World((payload) => {
          const r = reduce(state, { payload, receivedAt: 0 })
          state = r.state
          for (const e of r.events) applyVoiceEvent(mirror, e)
        })
        for (const op of ops) world.apply(op)
        world.apply({ kind: 'reidentify' })
        world.apply({ kind: 'deliver', count: 2 })
        expect(observed(state.members)).toEqual(expected(world))
        expect(mirror).toEqual(state.members)
      }),
      { numRuns: 300, seed: SEED + 1 },
    )
  })

  it('in place (the feed path) equals the pure reduce; a channel index fed by the events equals the store by channel', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        // one state object for the whole run, updated in place, exactly as the feed does
        const live: VoiceStoreState = createVoiceStoreState('100000000000000001')
        const liveMembers = live.members
        let pure: VoiceStoreState = createVoiceStoreState('100000000000000001')
        const index = new ChannelIndex()
        const world = new World((payload) => {
          const before = cloneVoiceStoreState(pure)
          const p = reduce(pure, { payload, receivedAt: 0 })
          // reduce never touches the state it is given
          expect(pure).toEqual(before)
          pure = p.state
          const r = applyDispatch(live, { payload, receivedAt: 0 })
          expect(r.events).toEqual(p.events)
          expect(r.skipped).toBe(p.skipped)
          for (const e of r.events) index.apply(e)
          expect(live).toEqual(pure)
          for (const channelId of CHANNELS) {
            expect(index.members(channelId)).toEqual(membersOf(live.members, channelId))
          }
        })
        for (const op of ops) world.apply(op)
        world.apply({ kind: 'resume' })
        expect(observed(live.members)).toEqual(expected(world))
        // never copied: the same map throughout
        expect(live.members).toBe(liveMembers)
        expect(ChannelIndex.of(live.members.values()).channels).toBe(index.channels)
      }),
      { numRuns: 300, seed: SEED + 2 },
    )
  })
})
