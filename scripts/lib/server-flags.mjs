import { availableParallelism } from 'node:os'

/**
 * Node flags for the production server process (`pnpm start`; the bench runs every server arm
 * with the same). On a single core, V8's background GC threads (concurrent marking and
 * sweeping) take turns with the event loop: while a major GC marks a 150 MB heap of 10,000
 * sockets, the loop loses the core for scheduler slices of 30-40 ms at a time. With
 * `--single-threaded-gc` the marking runs as incremental steps of the event loop instead. It
 * is the same work, so major GCs still cost a few hundred ms, but the tail was steadier in the
 * bench (p99 61 and 61 ms against 64 and 123 ms). With two or more cores, V8's defaults stay.
 * @param {number} [cores] the cores the server may run on (default: this process's)
 * @returns {string[]}
 */
export function serverNodeFlags(cores = availableParallelism()) {
  return cores <= 1 ? ['--single-threaded-gc'] : []
}
