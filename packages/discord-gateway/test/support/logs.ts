import { Writable } from 'node:stream'
import type { Logger } from 'pino'
import { pino } from 'pino'
import { expect } from 'vitest'

/** One pino JSON line: the parsed object and the text pino wrote. */
export interface LogLine {
  msg?: string
  level?: number
  alert?: unknown
  [key: string]: unknown
}

/** A pino logger (debug level) that keeps every JSON line it writes, parsed and raw. */
export function capturingLogger(): { logger: Logger; lines: LogLine[]; raw: string[] } {
  const lines: LogLine[] = []
  const raw: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue
        raw.push(line)
        lines.push(JSON.parse(line))
      }
      done()
    },
  })
  return { logger: pino({ level: 'debug' }, stream), lines, raw }
}

/**
 * Fails when a JSON line holds a key twice in one object: JSON.parse keeps the last one, so the
 * line written again from its parsed value is shorter than the line pino wrote.
 */
export function expectNoRepeatedKeys(raw: string[]): void {
  for (const line of raw) expect(JSON.stringify(JSON.parse(line)), line).toBe(line)
}
