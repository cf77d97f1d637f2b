import { availableParallelism } from 'node:os'

const ASYNC_CONTEXT_FRAME = '--experimental-async-context-frame'

/**
 * Node flags for the production server process (`pnpm start`; the bench runs every server arm
 * with the same).
 *
 * - `--experimental-async-context-frame` (the default from Node 24): TanStack Start keeps each
 *   request's context in an AsyncLocalStorage, and on Node 22 that switches on a promise hook
 *   for every promise of the process for good. Under 1,000 voice events/s those hooks made a tenth of
 *   the server's allocation (V8's sampling heap profiler), more young collections and more for
 *   the major ones to mark. With async context frames, AsyncLocalStorage needs no hooks.
 * - `--single-threaded-gc` on a single core. There V8's background GC threads (concurrent
 *   marking and sweeping) take turns with the event loop: while a major GC marks the heap of
 *   10,000 sockets, the loop loses the core for scheduler slices of 30-40 ms at a time. With the
 *   flag the marking runs as incremental steps of the event loop instead. It is the same work, so
 *   major GCs still cost a few hundred ms, but the tail was steadier in the bench (p99 61 and 61
 *   ms against 64 and 123 ms). With two or more cores, V8's defaults stay.
 * @param {number} [cores] the cores the server may run on (default: this process's)
 * @returns {string[]}
 */
export function serverNodeFlags(cores = availableParallelism()) {
  return [
    ...(process.allowedNodeEnvironmentFlags.has(ASYNC_CONTEXT_FRAME) ? [ASYNC_CONTEXT_FRAME] : []),
    ...(cores <= 1 ? ['--single-threaded-gc'] : []),
  ]
}
