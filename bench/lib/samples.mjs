import { LatencyHistogram } from './hist.mjs'
import { dueAt } from './schedule.mjs'

/** Every recorded receipt (event index, receipt time, not a stalled client), for send-time latency. */
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
   * Latency from the moment the generator actually sent each event (`sentAt[g]`), all receipts
   * and those of clients that kept reading.
   */
  fromSend(sentAt) {
    const all = new LatencyHistogram()
    const kept = new LatencyHistogram()
    for (let i = 0; i < this.n; i++) {
      const sent = sentAt[this.g[i]]
      if (typeof sent !== 'number') continue
      const lat = this.t[i] - sent
      all.record(lat)
      if (this.keeps[i]) kept.record(lat)
    }
    return { latency: all.summary(), latencyExcludingStalled: kept.summary() }
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
