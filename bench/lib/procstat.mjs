import { readFileSync } from 'node:fs'

const CLK_TCK = 100 // getconf CLK_TCK on Linux x86-64
const PAGE = 4096

/** CPU time (user+system, ms) and RSS (bytes) of a process, from /proc. Null if it is gone. */
export function readProc(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    const rssPages = Number(fields[21])
    return { cpuMs: ((utime + stime) * 1000) / CLK_TCK, rss: rssPages * PAGE }
  } catch {
    return null
  }
}

/**
 * Samples a process's CPU and RSS over a window: `start()` then `stop()` gives CPU % (of one
 * core) over the window, and the peak and last RSS seen by a 250 ms sampler.
 */
export class ProcSampler {
  constructor(pid) {
    this.pid = pid
  }

  start(nowMs) {
    this.t0 = nowMs
    this.first = readProc(this.pid)
    this.peakRss = this.first?.rss ?? 0
    this.timer = setInterval(() => {
      const s = readProc(this.pid)
      if (s && s.rss > this.peakRss) this.peakRss = s.rss
    }, 250)
    this.timer.unref()
  }

  stop(nowMs) {
    clearInterval(this.timer)
    const last = readProc(this.pid)
    const elapsed = nowMs - this.t0
    const cpu = last && this.first ? ((last.cpuMs - this.first.cpuMs) / elapsed) * 100 : null
    return {
      cpuPercent: cpu === null ? null : Math.round(cpu * 10) / 10,
      rssMiB: last ? mib(last.rss) : null,
      peakRssMiB: mib(Math.max(this.peakRss, last?.rss ?? 0)),
    }
  }
}

export function mib(bytes) {
  return Math.round((bytes / 1048576) * 10) / 10
}
