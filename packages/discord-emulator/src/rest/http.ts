import type { IncomingMessage, ServerResponse } from 'node:http'

/** Reads a request body (capped at 1 MiB). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > 1 << 20) throw new Error('body too large')
    chunks.push(buf)
  }
  return Buffer.concat(chunks)
}

/** Writes a response: JSON for objects, empty for undefined/204. */
export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return
  const hasBody = body !== undefined && status !== 204
  const text = hasBody ? JSON.stringify(body) : ''
  res.writeHead(status, {
    ...(hasBody ? { 'content-type': 'application/json' } : {}),
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  })
  res.end(text)
}

/** Writes an HTML page. */
export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers })
  res.end(html)
}

/** Writes a redirect. */
export function redirect(
  res: ServerResponse,
  location: string,
  status = 302,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { location, 'content-length': '0', ...headers })
  res.end()
}

/** Parses the Cookie header. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim())
  }
  return out
}

/** Escapes text for HTML. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
