import { PermissionFlagsBits as P } from 'discord-api-types/v10'
import type { WorldSeed } from './seed.ts'
import { makeSnowflake } from './snowflake.ts'

// Fixed timestamps keep every id of the default world stable across runs (dev config relies on it).
const T0 = Date.UTC(2021, 4, 12, 18, 30, 0)
const id = (n: number): string => makeSnowflake(T0 + n * 86_400_123, 3, n)

const GUILD = id(0)
const BOT = id(1)
const BOT_ROLE = id(2)
const USERS = [id(10), id(11), id(12), id(13), id(14), id(15)] as const

const bits = (...flags: bigint[]): string => flags.reduce((a, b) => a | b, 0n).toString()

/** @everyone's permissions in the default guild, and in new guilds that do not set their own. */
export const DEFAULT_EVERYONE_PERMISSIONS = bits(
  P.CreateInstantInvite,
  P.ViewChannel,
  P.SendMessages,
  P.ReadMessageHistory,
  P.AddReactions,
  P.Connect,
  P.Speak,
  P.Stream,
  P.UseVAD,
  P.ChangeNickname,
)

/**
 * The bot's managed role's permissions in the default guild, and in guilds it is added to without
 * explicit permissions: what Table Voice's install link asks for.
 */
export const DEFAULT_BOT_PERMISSIONS = bits(
  P.ViewChannel,
  P.Connect,
  P.ManageChannels,
  P.ManageRoles,
  P.MoveMembers,
  P.CreateInstantInvite,
  P.Speak,
  P.MuteMembers,
  P.DeafenMembers,
)

/** The built-in world: one guild "Kitchen Table", a bot, six users, voice channels and a category. */
export const DEFAULT_WORLD = {
  guild: { id: GUILD, name: 'Kitchen Table', ownerId: USERS[0] },
  application: {
    clientSecret: 'emu-client-secret-3f9a1c7e5b2d4086',
    name: 'Table Voice (emulated)',
    privilegedIntents: ['GUILD_MEMBERS'],
    redirectUris: [],
  },
  extraApplications: [
    { id: id(30), clientSecret: 'other-app-secret-6b1d0e2f', name: 'Some Other App' },
  ],
  bot: { id: BOT, username: 'Table Voice', roles: [BOT_ROLE] },
  users: [
    { id: USERS[0], username: 'morgan.le.fay', globalName: 'Morgan', member: true },
    { id: USERS[1], username: 'urzas_apprentice', globalName: 'Tamsin', member: true },
    { id: USERS[2], username: 'serra_angel_42', globalName: 'Priya', member: true },
    { id: USERS[3], username: 'goblin.guide', globalName: 'Dario', member: true },
    { id: USERS[4], username: 'llanowar.elf', globalName: 'Ines', member: false },
    { id: USERS[5], username: 'counterspell_kai', globalName: null, member: false },
  ],
  roles: [
    {
      id: GUILD,
      name: '@everyone',
      position: 0,
      permissions: DEFAULT_EVERYONE_PERMISSIONS,
    },
    {
      id: BOT_ROLE,
      name: 'Table Voice',
      position: 1,
      managed: true,
      permissions: DEFAULT_BOT_PERMISSIONS,
    },
  ],
  channels: [
    { id: id(20), name: 'Game Rooms', type: 4, position: 0 },
    { id: id(21), name: 'general', type: 0, position: 0 },
    { id: id(22), name: 'Lobby', type: 2, position: 1, parentId: id(20) },
    { id: id(23), name: 'Table 2', type: 2, position: 2, parentId: id(20), userLimit: 4 },
  ],
  voiceStates: [],
} satisfies WorldSeed
