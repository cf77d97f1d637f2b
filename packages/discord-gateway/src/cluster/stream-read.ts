import type { Redis } from 'ioredis'

/** A stream to read, after the entry `id`. */
export interface StreamPosition {
  readonly key: string
  readonly id: string
}

/**
 * One `XREAD COUNT count BLOCK blockMs STREAMS …` over `streams`: each stream's new entries by
 * key, or null when none arrived within `blockMs`.
 */
export async function readStreams(
  blocking: Redis,
  streams: readonly StreamPosition[],
  count: number,
  blockMs: number,
): Promise<Map<string, unknown[]> | null> {
  const reply = (await blocking.xread(
    'COUNT',
    count,
    'BLOCK',
    blockMs,
    'STREAMS',
    ...streams.map((s) => s.key),
    ...streams.map((s) => s.id),
  )) as [string, unknown[]][] | null
  return reply ? new Map(reply) : null
}
