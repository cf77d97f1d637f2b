import { type Logger, pino } from 'pino'

/** Creates the emulator's structured logger (silent when `quiet`). */
export function createLogger(quiet: boolean): Logger {
  return pino({ name: 'discord-emulator', level: quiet ? 'silent' : 'info' })
}

export type { Logger }
