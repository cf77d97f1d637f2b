/**
 * Preloaded into every server arm (`node --expose-gc --import bench/probe.mjs ...`): answers the
 * bench's IPC requests for event-loop delay, GC pauses and memory, without touching the server's
 * code. Loaded the same way into all three arms so its (small) cost is the same everywhere.
 */

import { mkdir, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import path from 'node:path'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import v8 from 'node:v8'
import { fullGc } from './lib/gc.mjs'
import { serveRequests } from './lib/ipc.mjs'
import { logMark, logStalls } from './lib/stalls.mjs'

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

  logStalls('server')

  // BENCH_ALLOC_PROFILE=dir: V8's sampling heap profiler over each measured window, counting
  // what young and old collections freed too, so the profile shows where the allocation rate
  // (and so the scavenges and promotions) comes from, not only what stayed alive.
  // BENCH_ALLOC_PROFILE_PROMOTED=1 leaves out what young collections freed, to see what is
  // promoted: what is left is what was alive at the end or freed by a major collection (which
  // also frees the young garbage of that moment, a sample of all allocation).
  const promotedOnly = process.env.BENCH_ALLOC_PROFILE_PROMOTED === '1'
  const allocDir = process.env.BENCH_ALLOC_PROFILE
  const inspector = allocDir ? new Session() : null
  inspector?.connect()
  let allocWindow = 0

  // The histogram records the time between the 10 ms sampling timer's runs: subtract the
  // resolution to get the delay.
  const ms = (ns) => Math.max(0, Math.round((ns / 1e6 - 10) * 1000) / 1000)
  serveRequests({
    'probe.reset': async () => {
      logMark('server', 'probe.reset')
      if (inspector) {
        await inspector.post('HeapProfiler.stopSampling').catch(() => null)
        await inspector.post('HeapProfiler.startSampling', {
          samplingInterval: 16384,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: !promotedOnly,
        })
      }
      loop.reset()
      gcCount = 0
      gcTotalMs = 0
      gcMaxMs = 0
      return true
    },
    'probe.read': async () => {
      if (inspector) {
        const { profile } = await inspector.post('HeapProfiler.stopSampling')
        const file = `${process.pid}-window${++allocWindow}.heapprofile`
        await mkdir(allocDir, { recursive: true })
        await writeFile(path.join(allocDir, file), JSON.stringify(profile))
      }
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
    /** Full GC only, before a measured window. */
    'probe.collect': () => fullGc(),
    /** Full GC (needs --expose-gc), then memory: for the per-connection memory scenario. */
    'probe.gc': async (msg) => {
      await fullGc()
      // BENCH_HEAP_SNAPSHOT=dir: heap snapshots before (a) ('a'), before the idle sockets
      // connect ('before'), with them (unlabelled) and after a scenario, to see what each
      // socket and each scenario keeps.
      if (process.env.BENCH_HEAP_SNAPSHOT) {
        const label = typeof msg?.label === 'string' ? `-${msg.label}` : ''
        await mkdir(process.env.BENCH_HEAP_SNAPSHOT, { recursive: true })
        v8.writeHeapSnapshot(
          path.join(process.env.BENCH_HEAP_SNAPSHOT, `${process.pid}${label}.heapsnapshot`),
        )
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
