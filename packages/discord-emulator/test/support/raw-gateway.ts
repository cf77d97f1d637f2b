import type { GatewayReceivePayload } from 'discord-api-types/v10'
import WebSocket from 'ws'

/** A bare gateway client for protocol tests: queue of frames, `next()`, and the close code. */
export class RawGateway {
  readonly ws: WebSocket
  readonly frames: GatewayReceivePayload[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  #waiters: (() => void)[] = []

  constructor(url: string) {
    this.ws = new WebSocket(url)
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as GatewayReceivePayload)
      for (const w of this.#waiters.splice(0)) w()
    })
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    })
    this.ws.on('error', () => {})
  }

  static async open(url: string): Promise<RawGateway> {
    const g = new RawGateway(url)
    await new Promise<void>((resolve, reject) => {
      g.ws.once('open', () => resolve())
      g.ws.once('error', reject)
    })
    await g.next((f) => f.op === 10)
    return g
  }

  send(payload: unknown): void {
    this.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload))
  }

  /** Resolves with the first frame (already received or future) matching `match`. */
  async next(
    match: (f: GatewayReceivePayload) => boolean,
    timeoutMs = 3000,
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

  /** Frames of a dispatch type. */
  dispatches(t: string) {
    return this.frames.filter((f) => f.op === 0 && f.t === t)
  }

  identify(token: string, intents = 131, extra: Record<string, unknown> = {}): void {
    this.send({
      op: 2,
      d: { token, intents, properties: { os: 'linux', browser: 'raw', device: 'raw' }, ...extra },
    })
  }

  close(): void {
    this.ws.terminate()
  }
}

/** The gateway URL with the query string libraries add. */
export function gatewayUrl(webUrl: string, path = '/'): string {
  return `${webUrl.replace('http', 'ws')}${path}?v=10&encoding=json`
}
