import type { Runtime } from './runtime.server'

/** Whether this node can serve, and if not why (for logs and tests; never sent to clients). */
export interface Readiness {
  ready: boolean
  reasons: string[]
}

/**
 * Readiness for a load balancer: the runtime has started, live voice presence flows (the gateway
 * is ready or resuming; in hub mode the hub's snapshot arrived) and Redis, when used, answers a
 * PING within `timeoutMs`. A bot lacking permissions is not a reason: every node would lack them
 * alike, and taking them all out of the pool would only hide the pages that say what is wrong.
 */
export async function checkReadiness(
  runtime: Runtime | null,
  timeoutMs = 1000,
): Promise<Readiness> {
  if (!runtime) return { ready: false, reasons: ['starting'] }
  const reasons: string[] = []
  if (runtime.feed) {
    const { state } = runtime.feed.status()
    if (state !== 'ready' && state !== 'resuming') reasons.push(`gateway ${state}`)
  } else if (!runtime.hub?.synced) {
    reasons.push('hub not synced')
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
