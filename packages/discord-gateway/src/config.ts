import { readSecretFiles } from '@repo/file-persistence'
import { z } from 'zod'
import { GatewayError } from './errors'

const booleanish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

/** The environment the gateway reads. */
export const GatewayEnvSchema = z.object({
  DISCORD_API_URL: z.url().default('https://discord.com/api'),
  DISCORD_BOT_TOKEN: z.string().min(1),
  DISCORD_GUILD_ID: z.string().regex(/^\d{17,20}$/, 'expected a Discord snowflake'),
  DISCORD_GUILD_MEMBERS_INTENT: booleanish.default(false),
  GATEWAY_SESSION_FILE: z.string().min(1).optional(),
})

/** Options for createVoiceFeed, parsed from the environment. */
export interface GatewayEnv {
  apiUrl: string
  token: string
  guildId: string
  intents: { guildMembers: boolean }
  sessionFile: string | undefined
}

/**
 * Parses DISCORD_API_URL, DISCORD_BOT_TOKEN, DISCORD_GUILD_ID (and the optional
 * DISCORD_GUILD_MEMBERS_INTENT, GATEWAY_SESSION_FILE). The token may come from a file named by
 * DISCORD_BOT_TOKEN_FILE (a mounted container secret; trailing newline ignored). Throws
 * GatewayError INVALID_CONFIG naming the offending variables, never their values.
 */
export function parseGatewayEnv(
  env: Record<string, string | undefined>,
  readFile?: (path: string) => string,
): GatewayEnv {
  const files = readSecretFiles(env, ['DISCORD_BOT_TOKEN'], readFile)
  if (files.problems.length > 0) {
    throw new GatewayError(
      'INVALID_CONFIG',
      `invalid gateway environment: ${files.problems.map((p) => p.message).join('; ')}`,
    )
  }
  const parsed = GatewayEnvSchema.safeParse(files.env)
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ')
    throw new GatewayError('INVALID_CONFIG', `invalid gateway environment: ${names}`)
  }
  const e = parsed.data
  return {
    apiUrl: e.DISCORD_API_URL,
    token: e.DISCORD_BOT_TOKEN,
    guildId: e.DISCORD_GUILD_ID,
    intents: { guildMembers: e.DISCORD_GUILD_MEMBERS_INTENT },
    sessionFile: e.GATEWAY_SESSION_FILE,
  }
}
