import { z } from 'zod'

/** Version of every wire contract in this module. Bump on a breaking change. */
export const PROTOCOL_VERSION = 1 as const

/**
 * A Discord snowflake as it travels in JSON: a decimal string.
 * Real snowflakes have 17 to 20 digits; the emulator mints realistic ones.
 * @see https://discord.com/developers/docs/reference#snowflakes
 */
export const SnowflakeSchema = z.string().regex(/^\d{17,20}$/, 'expected a Discord snowflake')
export type Snowflake = z.infer<typeof SnowflakeSchema>

/** Our own room id: URL-safe, 10 to 32 characters. */
export const RoomIdSchema = z.string().regex(/^[A-Za-z0-9_-]{10,32}$/, 'expected a room id')
export type RoomId = z.infer<typeof RoomIdSchema>

/** Milliseconds since the Unix epoch, with sub-millisecond precision where the producer has it. */
export const EpochMsSchema = z.number().nonnegative()
