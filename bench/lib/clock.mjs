/**
 * The one clock every bench process uses: CLOCK_MONOTONIC in milliseconds (float, ns resolution).
 * On Linux `process.hrtime.bigint()` reads CLOCK_MONOTONIC, which is shared by all processes on the
 * host, so a timestamp taken in the emulator process can be subtracted from one taken in the load
 * process. Never use Date.now() for latency (ms resolution, NTP steps).
 */
export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6
}

/** Epoch ms with sub-ms precision, the clock the server stamps `receivedAt` with. */
export function epochMs() {
  return performance.timeOrigin + performance.now()
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
