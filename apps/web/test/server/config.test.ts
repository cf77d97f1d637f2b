import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../src/server/config.server'

const valid = {
  DISCORD_BOT_TOKEN: 'MTEwMDAwMDAwMDAwMDAwMDAwMQ.emulator.token-value',
  DISCORD_CLIENT_ID: '1100000000000000002',
  DISCORD_CLIENT_SECRET: 'emulator-client-secret',
  DISCORD_GUILD_ID: '1100000000000000001',
  SESSION_SECRET: 'x'.repeat(32),
}

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig(valid)
    expect(config.DISCORD_API_URL).toBe('https://discord.com/api')
    expect(config.DISCORD_WEB_URL).toBe('https://discord.com')
    expect(config.PORT).toBe(3000)
    expect(config.PUBLIC_URL).toBe('http://127.0.0.1:3000')
    expect(config.GATEWAY_MODE).toBe('in-process')
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('treats empty strings as unset and strips a trailing slash from PUBLIC_URL', () => {
    const config = parseConfig({ ...valid, REDIS_URL: '', PUBLIC_URL: 'https://rooms.example/' })
    expect(config.REDIS_URL).toBeUndefined()
    expect(config.PUBLIC_URL).toBe('https://rooms.example')
  })

  it('names every problem at once', () => {
    try {
      parseConfig({ PORT: 'eighty', DISCORD_GUILD_ID: 'abc' })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      const problems = (error as ConfigError).problems.join('\n')
      for (const name of [
        'PORT',
        'DISCORD_BOT_TOKEN',
        'DISCORD_CLIENT_ID',
        'DISCORD_CLIENT_SECRET',
        'DISCORD_GUILD_ID',
        'SESSION_SECRET',
      ]) {
        expect(problems).toContain(name)
      }
    }
  })

  it('requires HUB_SECRET in hub mode', () => {
    expect(() => parseConfig({ ...valid, GATEWAY_MODE: 'hub' })).toThrow(/HUB_SECRET/)
    expect(
      parseConfig({ ...valid, GATEWAY_MODE: 'hub', HUB_SECRET: 'h'.repeat(32) }).GATEWAY_MODE,
    ).toBe('hub')
  })
})
