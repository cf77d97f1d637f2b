/**
 * Largest frame a browser may send on /api/ws, in bytes. In a module of its own, without imports,
 * so apps/web/vite.config.ts can read it (the WebSocket transport's maxPayload) before any bundler
 * is set up.
 */
export const MAX_CLIENT_FRAME_BYTES = 4096
