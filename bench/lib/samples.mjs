import { LatencyHistogram } from './hist.mjs'
import { dueAt } from './schedule.mjs'

/** Every recorded receipt: event index, receipt time and whether its client kept reading. */
export class Samples {
  constructor() {
    this.n = 0
    this.g = new Int32Array(1024)
    this.t = new Float64Array(1024)
    this.keeps = new Uint8Array(1024)
  }

  push(g, t, keeps) {
    if (this.n === this.g.length) {
      const grow = (a) => {
        const b = new a.constructor(a.length * 2)
        b.set(a)
        return b
      }
      this.g = grow(this.g)
      this.t = grow(this.t)
      this.keeps = grow(this.keeps)
    }
    this.g[this.n] = g
    this.t[this.n] = t
    this.keeps[this.n] = keeps ? 1 : 0
    this.n++
  }

  /**
   * Latency histograms of every receipt, and of those of clients that kept reading, measured
   * from `startOf(g)`: the intended send time of event g or the moment it was actually sent.
   * Events without a start time are left out.
   */
  latencies(startOf) {
    const all = new LatencyHistogram()
    const kept = new LatencyHistogram()
    for (let i = 0; i < this.n; i++) {
      const start = startOf(this.g[i])
      if (typeof start !== 'number') continue
      const lat = this.t[i] - start
      all.record(lat)
      if (this.keeps[i]) kept.record(lat)
    }
    return { all, kept }
  }

  /** Tab-separated `g due sent receipt` lines (BENCH_SAMPLES). */
  tsv(s, sentAt) {
    const lines = ['g\tdue\tsent\treceipt']
    for (let i = 0; i < this.n; i++) {
      const g = this.g[i]
      lines.push(
        `${g}\t${dueAt(s, g).toFixed(3)}\t${sentAt?.[g]?.toFixed(3) ?? ''}\t${this.t[i].toFixed(3)}`,
      )
    }
    return `${lines.join('\n')}\n`
  }
}
