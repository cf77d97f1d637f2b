import { type ServerFrame, ServerFrameSchema } from '@repo/discord-integration/contracts'

/** The part of the WebSocket API the client uses (the DOM WebSocket and `ws` both fit). */
export interface SocketLike {
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number }) => void) | null
  onerror: ((event: unknown) => void) | null
}

/** What a client socket reports (each handler is called for this socket only). */
export interface ClientSocketHandlers {
  open(): void
  /** Any message arrived (the socket is alive), valid or not. */
  activity(): void
  /** A server frame that passed the protocol's schema; anything else is dropped. */
  frame(frame: ServerFrame): void
  close(code: number): void
}

/** Wires the socket's events to the handlers, server frames parsed at this trust boundary. */
export function attachClientSocket(socket: SocketLike, handlers: ClientSocketHandlers): void {
  socket.onopen = () => {
    handlers.activity()
    handlers.open()
  }
  socket.onmessage = (event) => {
    handlers.activity()
    if (typeof event.data !== 'string') return
    let json: unknown
    try {
      json = JSON.parse(event.data)
    } catch {
      return
    }
    const parsed = ServerFrameSchema.safeParse(json)
    if (parsed.success) handlers.frame(parsed.data)
  }
  socket.onclose = (event) => handlers.close(event.code)
  socket.onerror = () => {
    // The close event follows and carries the decision.
  }
}

/** Detaches the socket's handlers and closes it normally (nothing more is reported). */
export function closeClientSocket(socket: SocketLike): void {
  socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null
  try {
    socket.close(1000, 'client closed')
  } catch {
    // already closing
  }
}

/** Sends a frame; a socket that cannot send is closing, and its close event follows. */
export function sendOnSocket(socket: SocketLike, frame: unknown): void {
  try {
    socket.send(JSON.stringify(frame))
  } catch {
    // the close event follows
  }
}
