import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { InviteTokens } from '../../src/features/rooms/invite-token.server'
import { ManualClock } from '../support/manual-clock'

const secret = 'x'.repeat(40)

describe('InviteTokens', () => {
  it('verifies a fresh link for its room and version', async () => {
    const clock = new ManualClock()
    const tokens = new InviteTokens({ secret, now: () => clock.now() })
    const { token, expiresAt } = await tokens.sign('room_abcdefgh', 3)
    expect(expiresAt).toBe(clock.now() + 24 * 3600 * 1000)
    await expect(tokens.verify(token, 'room_abcdefgh')).resolves.toMatchObject({
      roomId: 'room_abcdefgh',
      version: 3,
    })
  })
  it('rejects a link after 24 hours as TOKEN_EXPIRED', async () => {
    const clock = new ManualClock()
    const tokens = new InviteTokens({ secret, now: () => clock.now() })
    const { token } = await tokens.sign('room_abcdefgh', 1)
    await clock.advance(24 * 3600 * 1000 - 1000)
    await expect(tokens.verify(token, 'room_abcdefgh')).resolves.toBeTruthy()
    await clock.advance(2000)
    await expect(tokens.verify(token, 'room_abcdefgh')).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
    })
  })
  it('rejects another room, another secret, tampering and alg none as TOKEN_INVALID', async () => {
    const clock = new ManualClock()
    const tokens = new InviteTokens({ secret, now: () => clock.now() })
    const { token } = await tokens.sign('room_abcdefgh', 1)
    await expect(tokens.verify(token, 'room_zzzzzzzz')).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    })
    const other = new InviteTokens({ secret: 'y'.repeat(40), now: () => clock.now() })
    await expect(other.verify(token, 'room_abcdefgh')).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    })
    const [h, p, s] = token.split('.')
    const forgedPayload = Buffer.from(JSON.stringify({ room: 'room_abcdefgh', ver: 99 })).toString(
      'base64url',
    )
    await expect(
      tokens.verify(`${h}.${forgedPayload}.${s}`, 'room_abcdefgh'),
    ).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    })
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`
    await expect(tokens.verify(none, 'room_abcdefgh')).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    })
  })
  it('does not accept a JWT signed with the raw session secret (keys are derived per purpose)', async () => {
    const clock = new ManualClock()
    const tokens = new InviteTokens({ secret, now: () => clock.now() })
    const raw = await new SignJWT({ room: 'room_abcdefgh', ver: 1 })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('table-voice')
      .setAudience('room-invite')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret))
    await expect(tokens.verify(raw, 'room_abcdefgh')).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    })
  })
})
