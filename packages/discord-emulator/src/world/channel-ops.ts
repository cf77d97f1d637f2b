import { randomBytes } from 'node:crypto'
import { GatewayDispatchEvents as E, GatewayIntentBits as I } from 'discord-api-types/v10'
import { EmulatorError } from '../errors.ts'
import type { Overwrite } from './permissions.ts'
import type { ChannelRecord, InviteRecord } from './types.ts'
import type { World } from './world.ts'

/*
 * Channel, overwrite and invite mutations of the world. Each emits the dispatches Discord sends.
 */

// ---- channels ------------------------------------------------------------------------------

export function createChannel(world: World, input: Omit<ChannelRecord, 'id'>): ChannelRecord {
  const c: ChannelRecord = { ...input, id: world.ids.next() }
  world.channels.set(c.id, c)
  world.emit(E.ChannelCreate, world.apiChannel(c.id), I.Guilds)
  return c
}

export function updateChannel(
  world: World,
  id: string,
  patch: Partial<Omit<ChannelRecord, 'id' | 'type'>>,
): ChannelRecord {
  const c = world.channels.get(id)
  if (!c) throw new EmulatorError('UNKNOWN_CHANNEL', `unknown channel ${id}`)
  Object.assign(c, patch)
  world.emit(E.ChannelUpdate, world.apiChannel(id), I.Guilds)
  return c
}

/** Deletes a channel: occupants are disconnected (VSU null), children of a category orphaned. */
export function deleteChannel(world: World, id: string) {
  const c = world.channels.get(id)
  if (!c) throw new EmulatorError('UNKNOWN_CHANNEL', `unknown channel ${id}`)
  const payload = world.apiChannel(id)
  for (const userId of world.occupants(id)) world.setVoice(userId, null)
  world.channels.delete(id)
  for (const [code, invite] of world.invites)
    if (invite.channelId === id) world.invites.delete(code)
  world.emit(E.ChannelDelete, payload, I.Guilds)
  for (const child of world.channels.values()) {
    if (child.parentId === id) updateChannel(world, child.id, { parentId: null })
  }
  return payload
}

/** Creates or replaces one permission overwrite (CHANNEL_UPDATE). */
export function putOverwrite(world: World, channelId: string, overwrite: Overwrite): void {
  const c = world.channels.get(channelId)
  if (!c) throw new EmulatorError('UNKNOWN_CHANNEL', `unknown channel ${channelId}`)
  const rest = c.overwrites.filter((o) => o.id !== overwrite.id)
  updateChannel(world, channelId, { overwrites: [...rest, overwrite] })
}

export function deleteOverwrite(world: World, channelId: string, overwriteId: string): void {
  const c = world.channels.get(channelId)
  if (!c) throw new EmulatorError('UNKNOWN_CHANNEL', `unknown channel ${channelId}`)
  if (!c.overwrites.some((o) => o.id === overwriteId)) return
  updateChannel(world, channelId, { overwrites: c.overwrites.filter((o) => o.id !== overwriteId) })
}

export function createInvite(
  world: World,
  input: Omit<InviteRecord, 'code' | 'uses' | 'createdAt'>,
  unique: boolean,
) {
  if (!unique) {
    for (const i of world.invites.values()) {
      const same =
        i.channelId === input.channelId &&
        i.inviterId === input.inviterId &&
        i.maxAge === input.maxAge &&
        i.maxUses === input.maxUses &&
        i.temporary === input.temporary
      if (same) return i
    }
  }
  const code = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 8)
  const invite: InviteRecord = { ...input, code, uses: 0, createdAt: new Date().toISOString() }
  world.invites.set(code, invite)
  world.emit(
    E.InviteCreate,
    {
      channel_id: input.channelId,
      guild_id: world.guildId,
      code,
      created_at: invite.createdAt,
      inviter: world.apiUser(input.inviterId),
      max_age: input.maxAge,
      max_uses: input.maxUses,
      temporary: input.temporary,
      uses: 0,
    },
    I.GuildInvites,
  )
  return invite
}
