/**
 * BENCH_STALLS=1: prints every event-loop stall over 15 ms and every GC pause over 5 ms of this
 * process to stderr, stamped with wall-clock seconds, so the stalls of the server, the emulator
 * and the load process can be lined up (run with BENCH_VERBOSE=1 to see them).
 */
import { PerformanceObserver } from 'node:perf_hooks'
import v8 from 'node:v8'

const wall = () => ((Date.now() % 1_000_000) / 1000).toFixed(3)

export function logStalls(name) {
  if (process.env.BENCH_STALLS !== '1') return
  let last = performance.now()
  setInterval(() => {
    const now = performance.now()
    if (now - last > 20)
      process.stderr.write(`[stall] ${name} at=${wall()} ${(now - last - 5).toFixed(1)} ms\n`)
    last = now
  }, 5).unref()
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration > 5) {
        process.stderr.write(
          `[gc] ${name} at=${wall()} ${e.duration.toFixed(1)} ms kind=${e.detail?.kind}\n`,
        )
      }
    }
  }).observe({ entryTypes: ['gc'] })
  setInterval(() => {
    const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')
    const { external_memory: ext = 0, used_heap_size: used } = v8.getHeapStatistics()
    process.stderr.write(
      `[heap] ${name} at=${wall()} used=${mib(used)} old=${mib(old?.space_used_size ?? 0)} external=${mib(ext)} MiB\n`,
    )
  }, 5_000).unref()
}

const mib = (bytes) => (bytes / 1048576).toFixed(1)

/** Marks a moment in the same timeline. */
export function logMark(name, what) {
  if (process.env.BENCH_STALLS === '1')
    process.stderr.write(`[mark] ${name} at=${wall()} ${what}\n`)
}
