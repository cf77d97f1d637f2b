import { describe, expect, it } from 'vitest'
import { AppError, isAppError, toAppError } from '../src/app-error'

describe('AppError recognition', () => {
  it('recognises an AppError made by another copy of the module (the build bundles it twice)', async () => {
    // A fresh module instance stands in for the second bundle's copy of the class.
    const url = new URL('../src/app-error.ts', import.meta.url)
    const other = (await import(`${url.href}?copy`)) as typeof import('../src/app-error')
    expect(other.AppError).not.toBe(AppError)
    const foreign = new other.AppError('ROOM_FULL')
    expect(foreign instanceof AppError).toBe(false)
    expect(isAppError(foreign, 'ROOM_FULL')).toBe(true)
    expect(toAppError(foreign)).toBe(foreign)
    expect(toAppError(foreign).toBody()).toEqual({
      code: 'ROOM_FULL',
      message: 'This room already has four players.',
    })
  })

  it('turns anything else into INTERNAL without leaking its message', () => {
    const wrapped = toAppError(new Error('connect ECONNREFUSED 10.0.0.1:443'))
    expect(wrapped.code).toBe('INTERNAL')
    expect(JSON.stringify(wrapped.toBody())).not.toContain('ECONNREFUSED')
  })
})
