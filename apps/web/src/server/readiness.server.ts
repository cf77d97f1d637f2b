import type { Runtime } from './runtime.server'

/** Whether this node can serve, and if not why (for logs and tests; never sent to clients). */
export interface Readiness {
  ready: boolean
  reasons: string[]
}

/**
 * Readiness for a load balancer: the runtime has started, live voice presence flows and Redis,
 * when used, answers a PING within `timeoutMs`.
 *
 * - One node: the gateway is ready or resuming.
 * - Several nodes: this node holds a complete voice snapshot, follows the stream and lags less
 *   than GATEWAY_MAX_LAG_MS. These are the reasons of /api/health's `degraded` that concern this
 *   node alone. Those that concern every node alike (no gateway leader, the feed gone from Redis)
 *   make /api/health say degraded but keep the node ready: taking every node out of the pool
 *   would serve nobody, while the nodes keep serving the last known state and resync browsers
 *   when the feed is back.
 *
 * A bot lacking permissions is not a reason either, for the same reason.
 */
export async function checkReadiness(
  runtime: Runtime | null,
  timeoutMs = 1000,
): Promise<Readiness> {
  if (!runtime) return { ready: false, reasons: ['starting'] }
  const reasons: string[] = []
  if (runtime.cluster) {
    const { mirror, lag } = runtime.cluster.status()
    if (!mirror.ready) reasons.push('no complete voice snapshot')
    if (mirror.state === 'starting') reasons.push('voice stream not followed yet')
    if (lag.ms > runtime.config.GATEWAY_MAX_LAG_MS) reasons.push(`voice stream lag ${lag.ms} ms`)
  } else if (runtime.feed) {
    const { state } = runtime.feed.status()
    if (state !== 'ready' && state !== 'resuming') reasons.push(`gateway ${state}`)
  }
  if (runtime.redis && !(await redisAnswers(runtime, timeoutMs))) reasons.push('redis')
  return { ready: reasons.length === 0, reasons }
}

async function redisAnswers(runtime: Runtime, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    const ping = runtime.redis?.ping().then(
      (answer) => answer === 'PONG',
      () => false,
    )
    return await Promise.race([ping ?? false, timeout])
  } finally {
    clearTimeout(timer)
  }
}
