import { z } from 'zod'
import { EmulatorError } from '../errors.ts'

export const SnowflakeInput = z.string().regex(/^\d{17,20}$/, 'must be a snowflake string')

/** Control inputs, validated on every call (in-process and HTTP). */
const UsernameInput = z
  .string()
  .min(2)
  .max(32)
  .regex(/^[a-z0-9_.]+$/, 'lowercase letters, digits, _ and . only')

export const ControlSchemas = {
  createUser: z.object({
    username: UsernameInput,
    globalName: z.string().min(1).max(32).nullish(),
  }),
  updateUserProfile: z
    .object({
      userId: SnowflakeInput,
      username: UsernameInput.optional(),
      globalName: z.string().min(1).max(32).nullable().optional(),
      /** An avatar hash as Discord has them (`a_` for animated), or null for the default avatar. */
      avatar: z
        .string()
        .regex(/^(a_)?[0-9a-f]{32}$/, 'an avatar hash: 32 hex digits, a_ first if animated')
        .nullable()
        .optional(),
    })
    .refine(
      (d) => d.username !== undefined || d.globalName !== undefined || d.avatar !== undefined,
      'change at least one of username, globalName, avatar',
    ),
  setVoice: z.object({
    userId: SnowflakeInput,
    channelId: SnowflakeInput.nullable(),
    guildId: SnowflakeInput.optional(),
    selfMute: z.boolean().optional(),
    selfDeaf: z.boolean().optional(),
    selfVideo: z.boolean().optional(),
    selfStream: z.boolean().optional(),
    mute: z.boolean().optional(),
    deaf: z.boolean().optional(),
  }),
  removeMember: z.object({ userId: SnowflakeInput, guildId: SnowflakeInput.optional() }),
  closeGateway: z.object({
    shard: z.number().int().min(0).optional(),
    code: z
      .number()
      .int()
      .refine(
        (c) =>
          c === 1006 ||
          (c >= 1000 && c <= 1003) ||
          (c >= 1007 && c <= 1014) ||
          (c >= 3000 && c <= 4999),
        'must be 1006 (drop TCP) or a code allowed in a close frame (1000-1003, 1007-1014, 3000-4999)',
      ),
  }),
  invalidate: z.object({ resumable: z.boolean() }),
  heartbeatAcks: z.object({ enabled: z.boolean() }),
  refuse: z.object({ ms: z.number().int().min(0).max(3_600_000) }),
  restFault: z.object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
    path: z.string().min(1).startsWith('/'),
    status: z.union([z.literal(0), z.number().int().min(400).max(599)]),
    count: z.number().int().min(1).max(10_000).optional(),
    retryAfter: z.number().min(0).max(3600).optional(),
    global: z.boolean().optional(),
    scope: z.enum(['user', 'global', 'shared']).optional(),
    delayMs: z.number().int().min(0).max(120_000).optional(),
  }),
  issueAccessToken: z.object({
    userId: SnowflakeInput,
    scopes: z.array(z.string().min(1)).min(1),
    expiresInSeconds: z.number().int().min(1).optional(),
    clientId: SnowflakeInput.optional(),
  }),
  deauthorize: z.object({ userId: SnowflakeInput, clientId: SnowflakeInput.optional() }),
}

export type SetVoiceInput = z.input<typeof ControlSchemas.setVoice>
export type UpdateProfileInput = z.input<typeof ControlSchemas.updateUserProfile>

/** The input, validated: an INVALID_INPUT EmulatorError says what is wrong. */
export function parseControlInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input)
  if (!result.success) {
    throw new EmulatorError('INVALID_INPUT', z.prettifyError(result.error).replace(/\n/g, '; '))
  }
  return result.data
}
