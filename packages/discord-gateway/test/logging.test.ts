import { describe, expect, it } from 'vitest'
import { childLogger } from '../src/logging'
import { capturingLogger, expectNoRepeatedKeys } from './support/logs'

describe('childLogger', () => {
  it('does not bind a key again that its parent already binds (the caller keeps its name)', () => {
    const { logger, lines, raw } = capturingLogger()
    const parent = logger.child({ component: 'gateway' })
    childLogger(parent, { component: 'voice-feed', guildId: '1' }).info('hello')
    expect(raw).toHaveLength(1)
    expectNoRepeatedKeys(raw)
    expect(lines[0]).toMatchObject({ component: 'gateway', guildId: '1', msg: 'hello' })
  })

  it('adds its bindings under a parent that lacks them', () => {
    const { logger, lines, raw } = capturingLogger()
    childLogger(logger, { component: 'voice-feed' }).info('hello')
    expectNoRepeatedKeys(raw)
    expect(lines[0]).toMatchObject({ component: 'voice-feed', msg: 'hello' })
  })

  it('the check itself catches a repeated key', () => {
    const { logger, raw } = capturingLogger()
    logger.child({ component: 'gateway' }).child({ component: 'voice-feed' }).info('hello')
    expect(() => expectNoRepeatedKeys(raw)).toThrow()
  })
})
