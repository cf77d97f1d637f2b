/** Discord's epoch (2015-01-01T00:00:00Z) in ms. */
export const DISCORD_EPOCH = 1420070400000n

/**
 * Builds a snowflake from its parts, as Discord does: 42 bits of ms since the Discord epoch,
 * 5 bits worker, 5 bits process, 12 bits increment.
 */
export function makeSnowflake(timestampMs: number, worker: number, increment: number): string {
  const ms = BigInt(timestampMs) - DISCORD_EPOCH
  return (
    (ms << 22n) |
    (BigInt(worker & 31) << 17n) |
    (BigInt(1) << 12n) |
    BigInt(increment & 4095)
  ).toString()
}

/** Timestamp (ms) encoded in a snowflake. */
export function snowflakeTimestamp(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH)
}

/** Mints unique snowflakes from the current time (ids of objects created at run time). */
export class SnowflakeGenerator {
  #increment = 0
  #last = 0
  constructor(private readonly now: () => number = Date.now) {}

  next(): string {
    // Keep ids strictly increasing even when the clock stands still or goes back.
    const now = this.now()
    if (now > this.#last) {
      this.#last = now
      this.#increment = 0
    } else if (this.#increment > 4095) {
      this.#last++
      this.#increment = 0
    }
    return makeSnowflake(this.#last, 7, this.#increment++)
  }
}

/** True for a 17-20 digit decimal string. */
export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && /^\d{17,20}$/.test(value)
}
