import { createConnection } from 'node:net'

/** A RESP reply: a string (simple or bulk), a number, null, an array, or an error reply. */
export type RespReply = string | number | null | RespReply[] | RespError

/** An error reply (`-ERR …`), returned rather than thrown so callers can match it. */
export class RespError {
  constructor(readonly message: string) {}
}

/** Parses one reply at `at`; null when `text` does not hold all of it yet. */
function parseReply(text: string, at: number): { value: RespReply; next: number } | null {
  const end = text.indexOf('\r\n', at)
  if (end === -1) return null
  const kind = text[at]
  const line = text.slice(at + 1, end)
  const next = end + 2
  switch (kind) {
    case '+':
      return { value: line, next }
    case '-':
      return { value: new RespError(line), next }
    case ':':
      return { value: Number(line), next }
    case '$': {
      const length = Number(line)
      if (length < 0) return { value: null, next }
      // Byte lengths: the tests' replies are ASCII, where bytes and characters agree.
      if (text.length < next + length + 2) return null
      return { value: text.slice(next, next + length), next: next + length + 2 }
    }
    case '*': {
      const count = Number(line)
      if (count < 0) return { value: null, next }
      const items: RespReply[] = []
      let cursor = next
      for (let i = 0; i < count; i++) {
        const item = parseReply(text, cursor)
        if (!item) return null
        items.push(item.value)
        cursor = item.next
      }
      return { value: items, next: cursor }
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(text.slice(at, at + 40))}`)
  }
}

/**
 * Sends commands to a Redis (or Sentinel) on a loopback port over one short connection and
 * resolves with their replies in order (error replies as {@link RespError}); rejects when the
 * connection fails or the replies take longer than `timeoutMs`. With `password`, AUTH goes first
 * (its reply is not returned).
 */
export function redisCommands(
  port: number,
  commands: readonly (readonly string[])[],
  options: { password?: string; timeoutMs?: number } = {},
): Promise<RespReply[]> {
  const all = options.password ? [['AUTH', options.password], ...commands] : commands
  const payload = all
    .map(
      (args) =>
        `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
    )
    .join('')
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let text = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer from port ${port} within ${options.timeoutMs ?? 2_000} ms`))
    }, options.timeoutMs ?? 2_000)
    socket.on('connect', () => socket.write(payload))
    socket.on('data', (data) => {
      text += data.toString('utf8')
      const replies: RespReply[] = []
      let cursor = 0
      while (replies.length < all.length) {
        const reply = parseReply(text, cursor)
        if (!reply) return
        replies.push(reply.value)
        cursor = reply.next
      }
      clearTimeout(timer)
      socket.destroy()
      resolve(options.password ? replies.slice(1) : replies)
    })
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/** One command; see {@link redisCommands}. */
export async function redisCommand(
  port: number,
  args: readonly string[],
  options: { password?: string; timeoutMs?: number } = {},
): Promise<RespReply> {
  const [reply] = await redisCommands(port, [args], options)
  return reply ?? null
}
