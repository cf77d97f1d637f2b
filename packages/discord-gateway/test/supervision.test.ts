import { describe, expect, it } from 'vitest'
import { parseGatewayEnv } from '../src/config'
import { GatewayError } from '../src/errors'
import { StatusTracker } from '../src/gateway-status'
import { backoffCeiling, fullJitterDelay } from '../src/supervision/backoff'
import { fatalCloseReason } from '../src/supervision/close-codes'

describe('backoff', () => {
  it('doubles 1, 2, 4, 8, 16 s and caps at 30 s, forever', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffCeiling(n))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ])
    expect(backoffCeiling(3, { baseMs: 10, maxMs: 25 })).toBe(25)
  })

  it('uses full jitter: uniform in [0, ceiling)', () => {
    expect(fullJitterDelay(4, {}, () => 0)).toBe(0)
    expect(fullJitterDelay(4, {}, () => 0.5)).toBe(4000)
    expect(fullJitterDelay(4, {}, () => 0.999999)).toBe(7999)
  })
})

describe('close code policy (what we add to @discordjs/ws)', () => {
  // Resume or a new session is the library's decision (voice-feed.integration.test.ts checks
  // both against the emulator); these codes are not fatal to us.
  it.each([4000, 4001, 4002, 4009, 1006, 1011])('%i resumes: not fatal to us', (code) => {
    expect(fatalCloseReason(code)).toBeNull()
  })
  it.each([1000, 1001, 4003, 4005, 4007, 4008])('%i re-identifies: not fatal to us', (code) => {
    expect(fatalCloseReason(code)).toBeNull()
  })
  it.each([4004, 4010, 4011, 4012, 4013, 4014])('%i is fatal with an operator reason', (code) => {
    expect(fatalCloseReason(code)).toContain(String(code))
  })
})

describe('status tracker', () => {
  it('has one writer that emits {from, to} only on change and never leaves stopped', () => {
    let t = 5
    const tracker = new StatusTracker(() => t)
    const changes: string[] = []
    tracker.onChange(({ from, to, status }) => changes.push(`${from}->${to}@${status.since}`))
    expect(tracker.setState('connecting')).not.toBeNull()
    expect(tracker.setState('connecting')).toBeNull()
    t = 9
    tracker.setState('ready')
    tracker.setState('stopped')
    tracker.setState('connecting')
    expect(changes).toEqual(['idle->connecting@5', 'connecting->ready@9', 'ready->stopped@9'])
    expect(tracker.get().state).toBe('stopped')
  })

  it('returns copies', () => {
    const tracker = new StatusTracker()
    tracker.patch({ identifyBudget: { remaining: 3, total: 10, resetAt: 1 } })
    const copy = tracker.get()
    copy.identifyBudget!.remaining = 99
    expect(tracker.get().identifyBudget?.remaining).toBe(3)
  })
})

describe('parseGatewayEnv', () => {
  it('parses the Discord variables with defaults', () => {
    expect(
      parseGatewayEnv({ DISCORD_BOT_TOKEN: 'tok', DISCORD_GUILD_ID: '100000000000000001' }),
    ).toEqual({
      apiUrl: 'https://discord.com/api',
      token: 'tok',
      guildId: '100000000000000001',
      intents: { guildMembers: false },
      shardCount: undefined,
      sessionFile: undefined,
    })
    expect(
      parseGatewayEnv({
        DISCORD_BOT_TOKEN: 'tok',
        DISCORD_GUILD_ID: '100000000000000001',
        DISCORD_SHARD_COUNT: '4',
      }).shardCount,
    ).toBe(4)
    expect(() =>
      parseGatewayEnv({
        DISCORD_BOT_TOKEN: 'tok',
        DISCORD_GUILD_ID: '100000000000000001',
        DISCORD_SHARD_COUNT: '0',
      }),
    ).toThrow(/DISCORD_SHARD_COUNT/)
    expect(
      parseGatewayEnv({
        DISCORD_API_URL: 'http://127.0.0.1:9/api',
        DISCORD_BOT_TOKEN: 'tok',
        DISCORD_GUILD_ID: '100000000000000001',
        DISCORD_GUILD_MEMBERS_INTENT: 'true',
      }).intents.guildMembers,
    ).toBe(true)
  })

  it('names the bad variables without echoing values', () => {
    try {
      parseGatewayEnv({ DISCORD_BOT_TOKEN: '', DISCORD_GUILD_ID: 'secret-guild' })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayError)
      expect((error as GatewayError).code).toBe('INVALID_CONFIG')
      expect((error as Error).message).toContain('DISCORD_GUILD_ID')
      expect((error as Error).message).not.toContain('secret-guild')
    }
  })

  it('reads the token from DISCORD_BOT_TOKEN_FILE, without the trailing newline', () => {
    const files: Record<string, string> = { '/run/secrets/token': 'file-token\n' }
    const read = (path: string) => {
      const content = files[path]
      if (content === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' })
      return content
    }
    const guild = { DISCORD_GUILD_ID: '100000000000000001' }
    expect(
      parseGatewayEnv({ ...guild, DISCORD_BOT_TOKEN_FILE: '/run/secrets/token' }, read).token,
    ).toBe('file-token')
    expect(() =>
      parseGatewayEnv(
        { ...guild, DISCORD_BOT_TOKEN: 'tok', DISCORD_BOT_TOKEN_FILE: '/run/secrets/token' },
        read,
      ),
    ).toThrow(/DISCORD_BOT_TOKEN or DISCORD_BOT_TOKEN_FILE, not both/)
    expect(() =>
      parseGatewayEnv({ ...guild, DISCORD_BOT_TOKEN_FILE: '/run/secrets/other' }, read),
    ).toThrow(/DISCORD_BOT_TOKEN_FILE: cannot read \/run\/secrets\/other \(ENOENT\)/)
  })
})
