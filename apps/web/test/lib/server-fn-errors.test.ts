import { JoinRoomInputSchema } from '@repo/discord-integration/contracts'
import { describe, expect, it } from 'vitest'
import { errorCodeOf, publicError, validateWith } from '../../src/lib/server-fn-errors'
import { AppError, toAppError } from '../../src/server/app-error'

describe('server function errors', () => {
  it.each([
    ['INVALID_INPUT', 400],
    ['UNAUTHENTICATED', 401],
    ['FORBIDDEN', 403],
    ['ROOM_NOT_FOUND', 404],
    ['ROOM_FULL', 409],
    ['TOKEN_EXPIRED', 410],
    ['RATE_LIMITED', 429],
    ['DISCORD_UNAVAILABLE', 502],
  ] as const)('%s answers HTTP %i', (code, status) => {
    const error = publicError(new AppError(code).toBody())
    expect(error.status).toBe(status)
    expect(error.code).toBe(code)
  })

  it('never carries the cause, Discord text or a stack trace', () => {
    const inner = new Error('DiscordAPIError[50013]: Missing Permissions at /secret/path.ts:1')
    const app = new AppError('DISCORD_UNAVAILABLE', { cause: inner, detail: 'internal detail' })
    const error = publicError(app.toBody())
    expect(error.message).toBe('Discord did not answer as expected. Try again.')
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toMatch(
      /50013|secret|internal detail/,
    )
    expect(error.stack).not.toMatch(/\.ts:/)
    expect('cause' in error).toBe(false)
  })

  it('turns unknown errors into INTERNAL and keeps retry hints', () => {
    expect(toAppError(new TypeError('x')).code).toBe('INTERNAL')
    expect(publicError(new AppError('RATE_LIMITED', { retryAfter: 3 }).toBody()).retryAfter).toBe(3)
  })

  it('validators answer INVALID_INPUT (400) for bad input and pass good input through', () => {
    const validate = validateWith(JoinRoomInputSchema)
    expect(() => validate({ roomId: '../../etc', token: 'x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', status: 400 }),
    )
    expect(validate({ roomId: 'abcdefghij', token: 'a'.repeat(20) })).toEqual({
      roomId: 'abcdefghij',
      token: 'a'.repeat(20),
    })
  })

  it('reads the code back in the browser from the code or, failing that, the message', () => {
    expect(errorCodeOf({ code: 'ROOM_FULL', message: 'whatever' })).toBe('ROOM_FULL')
    expect(
      errorCodeOf(new Error('This invite link has expired. Ask the host for a new one.')),
    ).toBe('TOKEN_EXPIRED')
    expect(errorCodeOf(new Error('weird'))).toBe('INTERNAL')
    expect(errorCodeOf(null)).toBe('INTERNAL')
  })
})
