import type { SocketLike } from './client-socket'

/** Options of the presence client (presence-client.ts). */
export interface PresenceClientOptions {
  /** The `/api/ws` URL. */
  url: string
  /** Opens a socket. @defaultValue the browser's WebSocket */
  createSocket?: (url: string) => SocketLike
  /** Jitter source. @defaultValue Math.random */
  random?: () => number
  /** Interval of app-level pings while connected. @defaultValue 20_000 */
  heartbeatMs?: number
  /** A connected socket silent for this long is treated as dead (laptop sleep). @defaultValue 50_000 */
  staleAfterMs?: number
  /** Whether to follow the browser's online/offline events. @defaultValue true in a browser */
  watchNetwork?: boolean
}

/** The options with their defaults, but for `watchNetwork` (decided where it is used). */
export type ResolvedClientOptions = Required<Omit<PresenceClientOptions, 'watchNetwork'>>

/** Fills in the defaults of the options. */
export function resolveClientOptions(options: PresenceClientOptions): ResolvedClientOptions {
  return {
    url: options.url,
    createSocket: options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike),
    random: options.random ?? Math.random,
    heartbeatMs: options.heartbeatMs ?? 20_000,
    staleAfterMs: options.staleAfterMs ?? 50_000,
  }
}
