import { spawn } from 'node:child_process'

/**
 * A child process with a request/response channel over Node IPC. Requests are `{ id, op, ...args }`,
 * replies `{ id, ok, result | error }`; anything else the child sends is an event.
 */
export class Child {
  /**
   * @param {string} name for logs
   * @param {string} command
   * @param {string[]} args
   * @param {{ cpu?: string, env?: Record<string,string>, cwd?: string }} opts
   */
  constructor(name, command, args, opts = {}) {
    this.name = name
    const cmd = opts.cpu ? 'taskset' : command
    const cmdArgs = opts.cpu ? ['-c', opts.cpu, command, ...args] : args
    this.proc = spawn(cmd, cmdArgs, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    this.pending = new Map()
    this.nextId = 1
    this.listeners = new Set()
    this.output = []
    const keep = (chunk) => {
      this.output.push(chunk.toString())
      if (this.output.length > 200) this.output.shift()
      if (process.env[`BENCH_${'VERBOSE'}`]) process.stderr.write(`[${name}] ${chunk}`)
    }
    this.proc.stdout.on('data', keep)
    this.proc.stderr.on('data', keep)
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        for (const { reject } of this.pending.values()) {
          reject(new Error(`${name} exited (${code ?? signal}) during a request:\n${this.tail()}`))
        }
        this.pending.clear()
        resolve({ code, signal })
      })
    })
    this.proc.on('error', (err) => this.output.push(`spawn/ipc error: ${err.message}\n`))
    this.proc.on('message', (msg) => {
      if (msg && typeof msg === 'object' && 'id' in msg && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id)
        this.pending.delete(msg.id)
        if (msg.ok) p.resolve(msg.result)
        else p.reject(new Error(`${name}: ${msg.error}`))
        return
      }
      for (const l of this.listeners) l(msg)
    })
  }

  get pid() {
    return this.proc.pid
  }

  /** Last lines of the child's output, for error messages. */
  tail() {
    return this.output.join('').split('\n').slice(-30).join('\n')
  }

  request(op, args = {}, timeoutMs = 600_000) {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.name}: ${op} timed out after ${timeoutMs} ms\n${this.tail()}`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      if (!this.proc.connected) {
        this.pending.delete(id)
        clearTimeout(timer)
        reject(new Error(`${this.name}: not running (${op})\n${this.tail()}`))
        return
      }
      this.proc.send({ id, op, ...args })
    })
  }

  /** Resolves with the first event message for which `pred` is true. */
  waitFor(pred, timeoutMs = 60_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(l)
        reject(new Error(`${this.name}: timed out waiting for an event\n${this.tail()}`))
      }, timeoutMs)
      const l = (msg) => {
        if (pred(msg)) {
          clearTimeout(timer)
          this.listeners.delete(l)
          resolve(msg)
        }
      }
      this.listeners.add(l)
    })
  }

  /** Stops the child with SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited
    this.proc.kill('SIGTERM')
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs)
    const r = await this.exited
    clearTimeout(t)
    return r
  }
}

let following = false

/**
 * A bench child ends with the orchestrator: when the IPC channel closes (the orchestrator exited,
 * even by a crash that skipped its cleanup), it stops as if told to. Otherwise a server arm left
 * behind keeps its pinned core busy under the next run.
 */
function followParent() {
  if (following) return
  following = true
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'))
}

/**
 * Serves requests in a child: `handlers[op](args)` may be async; its value is the reply.
 * Ops without a handler are left to other listeners.
 */
export function serveRequests(handlers) {
  followParent()
  process.on('message', async (msg) => {
    if (!msg || typeof msg !== 'object' || !('id' in msg)) return
    const handler = handlers[msg.op]
    // Several modules of one process may serve requests (the probe and a server): each answers
    // only its own ops.
    if (!handler) return
    try {
      const result = await handler(msg)
      process.send?.({ id: msg.id, ok: true, result })
    } catch (err) {
      process.send?.({
        id: msg.id,
        ok: false,
        error: err instanceof Error ? err.stack : String(err),
      })
    }
  })
}
