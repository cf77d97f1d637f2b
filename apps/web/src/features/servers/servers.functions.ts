import {
  type MyServers,
  SaveServerSettingsInputSchema,
  ServerRefInputSchema,
} from '@repo/discord-integration/contracts'
import { createServerFn } from '@tanstack/react-start'
import { z } from 'zod'
import { validateWith } from '../../lib/server-fn-errors'
import { AppError } from '../../server/app-error'
import { signedIn } from '../../server/middleware/server-fn'

/**
 * The community server functions (ROOMS_COMMUNITY=1). The caller comes from the session
 * (`context.actor`), the service from the runtime (`context.servers`, null when community
 * servers are off). Failures answer with the documented typed error
 * (specs/017-discord-gateway-real/contracts/server-functions.md).
 */

/** The caller's servers shared with the bot; `community: false` when the deployment has none. */
export const listMyServers = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(z.object({}).strict().optional()))
  .handler(async ({ context: { servers, actor } }): Promise<MyServers> => {
    if (!servers) return { community: false, servers: [] }
    return { community: true, servers: await servers.listMyServers(actor) }
  })

/** A server's room settings and roles, for its managers (MANAGE_SERVER_REQUIRED otherwise). */
export const getServerSettings = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(ServerRefInputSchema))
  .handler(({ data, context: { servers, actor } }) => {
    if (!servers) throw new AppError('SERVER_NOT_FOUND', { detail: 'community servers are off' })
    return servers.getSettings(actor, data.guildId)
  })

/** Saves a server's room settings (its managers only). */
export const saveServerSettings = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(SaveServerSettingsInputSchema))
  .handler(({ data, context: { servers, actor } }) => {
    if (!servers) throw new AppError('SERVER_NOT_FOUND', { detail: 'community servers are off' })
    return servers.saveSettings(actor, data)
  })
