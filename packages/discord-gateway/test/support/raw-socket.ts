import type { GatewayReceivePayload } from 'discord-api-types/v10'

/** The gateway URL with the query string client libraries append to the bare origin. */
export function gatewayUrl(origin: string): string {
  return `${origin}/?v=10&encoding=json`
}

/** A bare gateway client on Node's WebSocket: a queue of frames and `next()`. For protocol checks. */
export class RawGatewaySocket {
  readonly frames: GatewayReceivePayload[] = []
  #waiters: (() => void)[] = []

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener('message', (event) => {
      this.frames.push(JSON.parse(String(event.data)) as GatewayReceivePayload)
      for (const waiter of this.#waiters.splice(0)) waiter()
    })
  }

  static open(url: string): Promise<RawGatewaySocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url)
      ws.addEventListener('open', () => resolve(new RawGatewaySocket(ws)), { once: true })
      ws.addEventListener('error', () => reject(new Error(`cannot open ${url}`)), { once: true })
    })
  }

  send(payload: unknown): void {
    this.ws.send(JSON.stringify(payload))
  }

  /** The first frame (received or future) matching `match`. */
  async next(
    match: (frame: GatewayReceivePayload) => boolean,
    timeoutMs = 3_000,
  ): Promise<GatewayReceivePayload> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.frames.find(match)
      if (found) return found
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('timed out waiting for a gateway frame')
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(4200)
  }
}
