import type { IncomingMessage, ServerResponse } from 'node:http'
import { EmulatorError } from '../errors.ts'
import { readBody, send, sendHtml } from '../rest/http.ts'
import type { EmulatorControl } from './control.ts'
import { renderPanel } from './panel.ts'

type Handler = (c: EmulatorControl, body: Record<string, unknown>) => unknown

/** POST /_emulator/* operations; each maps a JSON body onto the control handle. */
const POST_ROUTES: Record<string, Handler> = {
  '/_emulator/users': (c, b) => c.createUser(b as Parameters<EmulatorControl['createUser']>[0]),
  '/_emulator/users/profile': (c, b) =>
    c.updateUserProfile(b as Parameters<EmulatorControl['updateUserProfile']>[0]),
  '/_emulator/voice': (c, b) => c.setVoice(b as Parameters<EmulatorControl['setVoice']>[0]),
  '/_emulator/members/remove': (c, b) =>
    c.removeMember(b.userId as string, b.guildId as string | undefined),
  '/_emulator/members': (c, b) => c.addMember(b as Parameters<EmulatorControl['addMember']>[0]),
  '/_emulator/members/roles': (c, b) =>
    c.setMemberRoles(b as Parameters<EmulatorControl['setMemberRoles']>[0]),
  '/_emulator/roles': (c, b) => c.createRole(b as Parameters<EmulatorControl['createRole']>[0]),
  '/_emulator/guilds': (c, b) => c.createGuild(b as Parameters<EmulatorControl['createGuild']>[0]),
  '/_emulator/guilds/availability': (c, b) =>
    c.setGuildAvailable(b as Parameters<EmulatorControl['setGuildAvailable']>[0]),
  '/_emulator/gateway/sharding': (c, b) => c.setSharding(b),
  '/_emulator/gateway/close': (c, b) =>
    c.closeGateway(b.code as number, b.shard as number | undefined),
  '/_emulator/gateway/reconnect': (c) => c.reconnect(),
  '/_emulator/gateway/invalidate': (c, b) => c.invalidate(b.resumable as boolean),
  '/_emulator/gateway/heartbeat-acks': (c, b) => c.setHeartbeatAcks(b.enabled as boolean),
  '/_emulator/gateway/heartbeat-request': (c) => c.requestHeartbeat(),
  '/_emulator/gateway/refuse': (c, b) => c.refuse(b.ms as number),
  '/_emulator/gateway/restart': (c) => c.restart(),
  '/_emulator/rest/faults': (c, b) =>
    c.restFault(b as unknown as Parameters<EmulatorControl['restFault']>[0]),
  '/_emulator/oauth/tokens': (c, b) =>
    c.issueAccessToken(b as Parameters<EmulatorControl['issueAccessToken']>[0]),
  '/_emulator/oauth/deauthorize': (c, b) =>
    c.deauthorize(b as Parameters<EmulatorControl['deauthorize']>[0]),
  '/_emulator/application': (c, b) => c.setApplication(b),
  '/_emulator/bot/token/reset': (c) => c.resetBotToken(),
  '/_emulator/bot/membership': (c, b) =>
    c.setBotMembership(b as Parameters<EmulatorControl['setBotMembership']>[0]),
  '/_emulator/roles/permissions': (c, b) =>
    c.setRolePermissions(b as Parameters<EmulatorControl['setRolePermissions']>[0]),
  '/_emulator/channels/overwrites': (c, b) =>
    c.setChannelOverwrite(b as Parameters<EmulatorControl['setChannelOverwrite']>[0]),
  '/_emulator/channels/overwrites/delete': (c, b) =>
    c.deleteChannelOverwrite(b as Parameters<EmulatorControl['deleteChannelOverwrite']>[0]),
  '/_emulator/reset': (c) => c.reset(),
}

/** Serves the control API and panel. Returns false when the path is not under /_emulator. */
export async function handleControl(
  control: EmulatorControl,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/$/, '')
  if (path !== '/_emulator' && !path.startsWith('/_emulator/')) return false
  const method = req.method ?? 'GET'
  if (method === 'GET') {
    if (path === '/_emulator') sendHtml(res, 200, renderPanel(control.state()))
    else if (path === '/_emulator/state') send(res, 200, control.state())
    else if (path === '/_emulator/stats') send(res, 200, control.stats())
    else if (path === '/_emulator/rest/log') send(res, 200, control.restLog())
    else send(res, 404, { error: `no control route GET ${path}` })
    return true
  }
  const handler = POST_ROUTES[path]
  if (method !== 'POST' || !handler) {
    send(res, 404, { error: `no control route ${method} ${path}` })
    return true
  }
  let body: Record<string, unknown> = {}
  const raw = (await readBody(req)).toString('utf8')
  if (raw.trim()) {
    try {
      const parsed: unknown = JSON.parse(raw)
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error()
      body = parsed as Record<string, unknown>
    } catch {
      send(res, 400, { error: 'body must be a JSON object' })
      return true
    }
  }
  try {
    const result = handler(control, body)
    send(res, 200, result ?? { ok: true })
  } catch (err) {
    if (err instanceof EmulatorError) {
      const status = err.code === 'INVALID_INPUT' ? 400 : 404
      send(res, status, { error: err.message, code: err.code })
    } else throw err
  }
  return true
}
