import { randomBytes } from 'node:crypto'
import { GatewayDispatchEvents as E, GatewayIntentBits as I } from 'discord-api-types/v10'
import { EmulatorError } from '../errors.ts'
import type { Guild } from './guild.ts'
import type { Overwrite } from './permissions.ts'
import type { ChannelRecord, InviteRecord } from './types.ts'

/*
 * Channel, overwrite and invite mutations of a guild. Each emits the dispatches Discord sends.
 */

// ---- channels ------------------------------------------------------------------------------

export function createChannel(guild: Guild, input: Omit<ChannelRecord, 'id'>): ChannelRecord {
  const c: ChannelRecord = { ...input, id: guild.host.ids.next() }
  guild.channels.set(c.id, c)
  guild.emit(E.ChannelCreate, guild.apiChannel(c.id), I.Guilds)
  return c
}

export function updateChannel(
  guild: Guild,
  id: string,
  patch: Partial<Omit<ChannelRecord, 'id' | 'type'>>,
): ChannelRecord {
  const c = guild.channels.get(id)
  if (!c) throw new EmulatorError('UNKNOWN_CHANNEL', `unknown channel ${id}`)
  Object.assign(c, patch)
  guild.emit(E.ChannelUpdate, guild.apiChannel(id), I.Guilds)
  return c
}

/** Deletes a channel: occupants are disconnected (VSU null), children of a category orphaned. */
export function deleteChannel(guild: Guild, id: string) {
  const c = guild.channels.get(id)
  if (!c) throw new EmulatorError('UNKNOWN_CHANNEL', `unknown channel ${id}`)
  const payload = guild.apiChannel(id)
  for (const userId of guild.occupants(id)) guild.setVoice(userId, null)
  guild.channels.delete(id)
  for (const [code, invite] of guild.invites)
    if (invite.channelId === id) guild.invites.delete(code)
  guild.emit(E.ChannelDelete, payload, I.Guilds)
  for (const child of guild.channels.values()) {
    if (child.parentId === id) updateChannel(guild, child.id, { parentId: null })
  }
  return payload
}

/** Creates or replaces one permission overwrite (CHANNEL_UPDATE). */
export function putOverwrite(guild: Guild, channelId: string, overwrite: Overwrite): void {
  const c = guild.channels.get(channelId)
  if (!c) throw new EmulatorError('UNKNOWN_CHANNEL', `unknown channel ${channelId}`)
  const rest = c.overwrites.filter((o) => o.id !== overwrite.id)
  updateChannel(guild, channelId, { overwrites: [...rest, overwrite] })
}

export function deleteOverwrite(guild: Guild, channelId: string, overwriteId: string): void {
  const c = guild.channels.get(channelId)
  if (!c) throw new EmulatorError('UNKNOWN_CHANNEL', `unknown channel ${channelId}`)
  if (!c.overwrites.some((o) => o.id === overwriteId)) return
  updateChannel(guild, channelId, { overwrites: c.overwrites.filter((o) => o.id !== overwriteId) })
}

export function createInvite(
  guild: Guild,
  input: Omit<InviteRecord, 'code' | 'uses' | 'createdAt'>,
  unique: boolean,
) {
  if (!unique) {
    for (const i of guild.invites.values()) {
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
  guild.invites.set(code, invite)
  guild.emit(
    E.InviteCreate,
    {
      channel_id: input.channelId,
      guild_id: guild.id,
      code,
      created_at: invite.createdAt,
      inviter: guild.apiUser(input.inviterId),
      max_age: input.maxAge,
      max_uses: input.maxUses,
      temporary: input.temporary,
      uses: 0,
    },
    I.GuildInvites,
  )
  return invite
}
