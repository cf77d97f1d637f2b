import type { Runtime } from './runtime'
import { checkSetup } from './startup-check.server'

/** Starts a runtime: voice feed, rooms, reconciliation with Discord, cleanup. */
export async function bootRuntime(runtime: Runtime): Promise<void> {
  const { feed, cluster, rooms, scheduler, logger } = runtime
  await runtime.auth.start()
  // With Redis: reads the voice snapshot, follows the stream and (in-process mode) competes for
  // the gateway lease. Without: connects the one gateway.
  await (cluster ?? feed)?.start()
  // The guilds the gateway knows, and its guild changes from now on.
  runtime.guilds.start()
  // Who has which page open on the other nodes, before a seat is judged on it.
  await runtime.viewers.start()
  // Leadership first: only the leader reconciles below.
  await runtime.leadership.start()
  await rooms.start()
  await checkSetup(runtime)
  try {
    await rooms.reconcile()
  } catch (error) {
    // Discord may be briefly unreachable; the rooms keep working and the next start retries.
    logger.warn({ err: error }, 'reconciliation with discord failed')
  }
  scheduler.start()
  logger.info(
    {
      rooms: rooms.openRooms,
      layout: cluster ? 'cluster' : 'single',
      gatewayMode: runtime.config.GATEWAY_MODE,
    },
    'runtime started',
  )
}

/** Stops a runtime gracefully: the feed keeps its session resumable, stores are flushed. */
export async function shutdownRuntime(runtime: Runtime): Promise<void> {
  runtime.scheduler.stop()
  // Released, not left to expire: another node takes the cleanup over at its next attempt.
  await runtime.leadership.stop()
  runtime.rooms.stop()
  runtime.guilds.stop()
  await runtime.presence.stop()
  await runtime.auth.stop()
  await runtime.viewers.stop()
  // Closes a gateway it leads with 4200 (resumable by the next leader) and releases the lease.
  await (runtime.cluster ?? runtime.feed)?.stop()
  await runtime.store.close()
  await runtime.serverSettings?.close()
  await runtime.redis?.quit().catch(() => undefined)
  runtime.logThrottle.close()
  runtime.logger.info('runtime stopped')
}
