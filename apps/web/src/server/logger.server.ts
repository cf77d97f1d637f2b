import pino, { type Logger } from 'pino'
import { getConfig } from './config.server'

export type { Logger }

const g = globalThis as unknown as { __logger?: Logger }

/** Creates a structured logger; secrets that may appear in objects are redacted. */
export function createLogger(level: string, name = 'web'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        '*.accessToken',
        '*.refreshToken',
        '*.access_token',
        '*.refresh_token',
        '*.token',
        '*.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  })
}

/** The process-wide logger (one per process, on globalThis: modules may be bundled twice). */
export function getLogger(): Logger {
  g.__logger ??= createLogger(getConfig().LOG_LEVEL)
  return g.__logger
}
