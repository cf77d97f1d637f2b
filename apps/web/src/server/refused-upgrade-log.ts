import type { Logger } from 'pino'

/**
 * Logs a WebSocket upgrade the route refused: 403 (wrong Origin, usually a PUBLIC_URL that does
 * not match the address browsers use) at warn, anything else (401 signed out, 503 shutting
 * down) at info. Anyone can cause these at will, so `log` should be rate-limited
 * (LogThrottle.wrap). The Origin is the client's text: cut to 200 characters.
 */
export function logRefusedUpgrade(log: Logger, request: Request, response: Response): void {
  const fields = {
    status: response.status,
    origin: request.headers.get('origin')?.slice(0, 200) ?? null,
  }
  if (response.status === 403) log.warn(fields, 'websocket upgrade refused')
  else log.info(fields, 'websocket upgrade refused')
}
