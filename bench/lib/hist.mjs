import { importFromWeb } from './resolve.mjs'

const hdr = await importFromWeb('hdr-histogram-js')

/**
 * A latency histogram in microseconds (HdrHistogram, 3 significant digits, up to 1 hour).
 * Values are recorded in ms and summarised in ms.
 */
export class LatencyHistogram {
  constructor() {
    this.h = hdr.build({
      bitBucketSize: 64,
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: 3,
      useWebAssembly: false,
    })
  }

  /** Records one latency in milliseconds (negative values, from clock noise, count as 0). */
  record(ms) {
    this.h.recordValue(Math.max(1, Math.round(ms * 1000)))
  }

  get count() {
    return this.h.totalCount
  }

  /** Adds another histogram's counts (e.g. from its base64 encoding). */
  addEncoded(base64) {
    const other = hdr.decodeFromCompressedBase64(base64, 64, false)
    this.h.add(other)
  }

  encode() {
    return hdr.encodeIntoCompressedBase64(this.h)
  }

  /**
   * p50/p95/p99/p99.9/max in ms. p99.9 is null below 10,000 samples (too few to mean anything),
   * everything is null without samples.
   */
  summary() {
    const n = this.h.totalCount
    const q = (p) => (n === 0 ? null : round3(this.h.getValueAtPercentile(p) / 1000))
    return {
      count: n,
      p50: q(50),
      p95: q(95),
      p99: q(99),
      p999: n >= 10_000 ? q(99.9) : null,
      max: n === 0 ? null : round3(this.h.maxValue / 1000),
      mean: n === 0 ? null : round3(this.h.mean / 1000),
    }
  }
}

export function round3(x) {
  return Math.round(x * 1000) / 1000
}
