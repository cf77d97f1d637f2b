import { type ChildProcess, spawn } from 'node:child_process'
import { waitUntil } from './wait'

/** How a process ended. */
export interface ProcessExit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** One line a process wrote, with the stream and the moment it was read. */
export interface OutputLine {
  stream: 'stdout' | 'stderr'
  text: string
  at: number
}

/** Options of {@link spawnProcess}. */
export interface SpawnOptions {
  /** A name for messages and failures (e.g. `worker-1`). */
  name: string
  /** The environment (nothing is inherited unless you spread `process.env` in). */
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Lines kept per process (oldest dropped first). @defaultValue 20_000 */
  maxLines?: number
}

/** Every process spawned here that has not exited yet: killed with SIGKILL if the test process exits first. */
const running = new Set<ManagedProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of running) child.killNow()
  })
}

/**
 * A child process a test controls by pid: its output as lines (and JSON log lines), signals
 * (`kill -9`, SIGSTOP/SIGCONT), and a stop that always ends it (SIGTERM, then SIGKILL after a
 * grace period, with a SIGCONT in between in case it is paused). Nothing is left running: every
 * live process is SIGKILLed when the test process exits, and {@link stopAll} ends them all.
 */
export class ManagedProcess {
  readonly name: string
  readonly #child: ChildProcess
  readonly #lines: OutputLine[] = []
  readonly #maxLines: number
  readonly exited: Promise<ProcessExit>
  #exit: ProcessExit | null = null
  #waiters = new Set<() => void>()

  constructor(command: string, args: readonly string[], options: SpawnOptions) {
    this.name = options.name
    this.#maxLines = options.maxLines ?? 20_000
    this.#child = spawn(command, args, {
      env: options.env ?? {},
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    installExitHook()
    running.add(this)
    this.exited = new Promise<ProcessExit>((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal }
        running.delete(this)
        this.#notify()
        resolve(this.#exit)
      })
      this.#child.once('error', () => {
        // spawn failure (ENOENT...): reported as an exit without a code
        this.#exit = { code: null, signal: null }
        running.delete(this)
        this.#notify()
        resolve(this.#exit)
      })
    })
    this.#read(this.#child.stdout, 'stdout')
    this.#read(this.#child.stderr, 'stderr')
  }

  /** The OS process id (undefined only if the spawn failed). */
  get pid(): number {
    const pid = this.#child.pid
    if (pid === undefined) throw new Error(`${this.name} did not start`)
    return pid
  }

  /** False once the process has exited. */
  get alive(): boolean {
    return this.#exit === null
  }

  /** How it ended (null while it runs). */
  get exit(): ProcessExit | null {
    return this.#exit
  }

  /** The lines read so far (oldest first). */
  lines(): readonly OutputLine[] {
    return this.#lines
  }

  /** The lines that parse as JSON objects (pino's log lines), oldest first. */
  jsonLines(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = []
    for (const line of this.#lines) {
      if (!line.text.startsWith('{')) continue
      try {
        const parsed = JSON.parse(line.text) as unknown
        if (parsed && typeof parsed === 'object') out.push(parsed as Record<string, unknown>)
      } catch {
        // not a JSON line
      }
    }
    return out
  }

  /** The last `count` lines as text, for failure messages. */
  tail(count = 40): string {
    return this.#lines
      .slice(-count)
      .map((l) => `[${this.name} ${l.stream}] ${l.text}`)
      .join('\n')
  }

  /** Resolves with the first line (already read or future) that matches; rejects on exit or timeout. */
  async waitForLine(
    match: RegExp | ((line: string) => boolean),
    timeoutMs: number,
  ): Promise<string> {
    const test = typeof match === 'function' ? match : (line: string) => match.test(line)
    const deadline = Date.now() + timeoutMs
    let from = 0
    for (;;) {
      for (; from < this.#lines.length; from++) {
        const line = this.#lines[from]
        if (line && test(line.text)) return line.text
      }
      if (!this.alive)
        throw new Error(`${this.name} exited before the line appeared\n${this.tail()}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${this.name}: timed out waiting for a line\n${this.tail()}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 250))
        function done() {
          clearTimeout(timer)
          resolve()
        }
        this.#waiters.add(done)
      })
      // lines may have been dropped from the front: never skip past the end
      from = Math.min(from, this.#lines.length)
    }
  }

  /** Sends a signal (no-op once exited). */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.#child.kill(signal)
  }

  /** SIGSTOP: the process is frozen (timers, sockets and all) until {@link resume}. */
  pause(): void {
    this.signal('SIGSTOP')
  }

  /** SIGCONT. */
  resume(): void {
    this.signal('SIGCONT')
  }

  /** kill -9 and wait until it is gone. */
  async kill(): Promise<ProcessExit> {
    this.signal('SIGKILL')
    return this.exited
  }

  /** SIGTERM (and SIGCONT, in case it is paused), then SIGKILL after `graceMs`; resolves when gone. */
  async stop(graceMs = 5_000): Promise<ProcessExit> {
    if (!this.alive) return this.exited
    this.signal('SIGTERM')
    this.signal('SIGCONT')
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  /** Synchronous SIGKILL (for exit hooks). */
  killNow(): void {
    try {
      if (this.alive) process.kill(this.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }

  #read(stream: NodeJS.ReadableStream | null, name: OutputLine['stream']): void {
    if (!stream) return
    let partial = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() ?? ''
      for (const text of parts) this.#push({ stream: name, text, at: Date.now() })
    })
    stream.on('end', () => {
      if (partial) this.#push({ stream: name, text: partial, at: Date.now() })
      partial = ''
    })
  }

  #push(line: OutputLine): void {
    this.#lines.push(line)
    if (this.#lines.length > this.#maxLines)
      this.#lines.splice(0, this.#lines.length - this.#maxLines)
    this.#notify()
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) {
      this.#waiters.delete(waiter)
      waiter()
    }
  }
}

/** Starts `command args` as a {@link ManagedProcess}. */
export function spawnProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ManagedProcess {
  return new ManagedProcess(command, args, options)
}

/** Stops every process spawned here that still runs (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...running].map((child) => child.stop(graceMs)))
}

/** The processes spawned here that still run. */
export function runningProcesses(): readonly ManagedProcess[] {
  return [...running]
}

/** True while a process with this pid exists (signal 0 probes it). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Waits until `pid` is gone. */
export function waitForPidGone(pid: number, timeoutMs = 5_000): Promise<true> {
  return waitUntil(() => !pidAlive(pid), timeoutMs, `pid ${pid} to exit`)
}
