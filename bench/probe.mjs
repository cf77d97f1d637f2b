/**
 * Preloaded into every server arm (`node --expose-gc --import bench/probe.mjs ...`): answers the
 * bench's IPC requests for event-loop delay, GC pauses and memory, without touching the server's
 * code. Loaded the same way into all three arms so its (small) cost is the same everywhere.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { serveRequests } from './lib/ipc.mjs'

if (process.send) {
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  let gcCount = 0
  let gcTotalMs = 0
  let gcMaxMs = 0
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcCount++
      gcTotalMs += e.duration
      if (e.duration > gcMaxMs) gcMaxMs = e.duration
    }
  })
  obs.observe({ entryTypes: ['gc'] })

  // BENCH_STALLS=1: print every event-loop stall over 15 ms and every GC pause over 5 ms to
  // stderr, with the time since the process started, to line them up with what the server does.
  if (process.env.BENCH_STALLS === '1') {
    let last = performance.now()
    setInterval(() => {
      const now = performance.now()
      if (now - last > 20) {
        process.stderr.write(`[stall] t=${(now / 1000).toFixed(2)}s ${(now - last - 5).toFixed(1)} ms\n`)
      }
      last = now
    }, 5).unref()
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.duration > 5) {
          process.stderr.write(
            `[gc] t=${(e.startTime / 1000).toFixed(2)}s ${e.duration.toFixed(1)} ms kind=${e.detail?.kind}\n`,
          )
        }
      }
    }).observe({ entryTypes: ['gc'] })
  }

  // The histogram records the time between the 10 ms sampling timer's runs: subtract the
  // resolution to get the delay.
  const ms = (ns) => Math.max(0, Math.round((ns / 1e6 - 10) * 1000) / 1000)
  serveRequests({
    'probe.reset': () => {
      if (process.env.BENCH_STALLS === '1') {
        process.stderr.write(`[probe.reset] t=${(performance.now() / 1000).toFixed(2)}s\n`)
      }
      loop.reset()
      gcCount = 0
      gcTotalMs = 0
      gcMaxMs = 0
      return true
    },
    'probe.read': () => {
      const m = process.memoryUsage()
      return {
        loopDelay: {
          p50: ms(loop.percentile(50)),
          p99: ms(loop.percentile(99)),
          max: ms(loop.max),
        },
        gc: {
          count: gcCount,
          totalMs: Math.round(gcTotalMs),
          maxMs: Math.round(gcMaxMs * 10) / 10,
        },
        memory: {
          rss: m.rss,
          heapUsed: m.heapUsed,
          external: m.external,
          arrayBuffers: m.arrayBuffers,
        },
      }
    },
    /** Full GC (needs --expose-gc), then memory: for the per-connection memory scenario. */
    'probe.gc': async () => {
      const gc = globalThis.gc
      if (typeof gc === 'function') {
        gc()
        await new Promise((r) => setTimeout(r, 50))
        gc()
      }
      const m = process.memoryUsage()
      return {
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      }
    },
  })
}
