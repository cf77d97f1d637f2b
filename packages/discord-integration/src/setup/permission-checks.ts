import {
  type APIGuild,
  type APIGuildCategoryChannel,
  ChannelType,
  PermissionFlagsBits,
  type RESTGetAPIGuildChannelsResult,
} from 'discord-api-types/v10'
import {
  type Answer,
  describeFailure,
  discordCheck,
  labels,
  statusOf,
  unanswered,
} from './discord-check'
import {
  channelPermissions,
  denyingOverwrites,
  lackingPermissions,
  type OverwriteBits,
  type PermissionName,
  type PermissionSubject,
} from './permissions'
import type { SetupCheck } from './setup-check'

/*
 * The checks of the bot's place in the server: it is a member, its roles give it what rooms need,
 * and the room categories' overwrites take none of it away (server settings, not the portal).
 */

/** `GET /guilds/{id}`: the bot is in DISCORD_GUILD_ID (Discord answers 403 or 404 otherwise). */
export function checkGuild(guild: Answer<APIGuild>, guildId: string, apiUrl: string): SetupCheck {
  if (guild.ok) {
    return discordCheck('guild', 'ok', `the bot is in "${guild.value.name}" (${guildId})`)
  }
  const status = statusOf(guild.error)
  if (status !== 403 && status !== 404) return unanswered('guild', guild.error, apiUrl)
  return discordCheck(
    'guild',
    'fail',
    `the bot is not in the server DISCORD_GUILD_ID ${guildId} (Discord answers ${describeFailure(guild.error)})`,
    `open the install link below as someone with Manage Server in that server and add the bot; check that DISCORD_GUILD_ID is the server's ID (Discord: User Settings → Advanced → Developer Mode, then right-click the server → Copy Server ID)`,
  )
}

/** The required permissions the bot's base permissions (its roles, @everyone's) lack. */
export function checkGuildPermissions(
  base: bigint,
  required: readonly PermissionName[],
  botRoleName: string | undefined,
): { check: SetupCheck; lacking: PermissionName[] } {
  const lacking = lackingPermissions(base, required)
  if (lacking.length === 0) {
    return {
      check: discordCheck(
        'guild-permissions',
        'ok',
        `the bot holds all ${required.length} permissions rooms need: ${labels(required)}`,
      ),
      lacking,
    }
  }
  const role = botRoleName ? `the role "${botRoleName}"` : "the bot's role"
  return {
    check: discordCheck(
      'guild-permissions',
      'fail',
      `the bot lacks ${labels(lacking)} in the server`,
      `Server Settings → Roles → ${role} → Permissions: turn on ${labels(lacking)} and Save Changes (or open the install link below again: it asks for exactly what rooms need)`,
    ),
    lacking,
  }
}

/**
 * The bot's permissions on the categories that hold room channels (named with `prefix`): what
 * each one's overwrites take away from what the server grants (a permission the server does not
 * grant is reported once, by the server check). No category yet is fine: the app creates one with
 * overwrites that keep the bot's permissions.
 */
export function checkCategories(input: {
  channels: RESTGetAPIGuildChannelsResult
  prefix: string
  subject: PermissionSubject
  base: bigint
  required: readonly PermissionName[]
  roles: readonly { id: string; name: string }[]
}): { check: SetupCheck; taken: PermissionName[] } {
  const { subject, base } = input
  const ours = input.channels.filter(
    (c): c is APIGuildCategoryChannel =>
      c.type === ChannelType.GuildCategory && c.name.startsWith(input.prefix),
  )
  if (ours.length === 0) {
    return {
      check: discordCheck(
        'category-permissions',
        'ok',
        `no room category yet: the app creates "${input.prefix} 1" with the overwrites it needs`,
      ),
      taken: [],
    }
  }
  const granted = input.required.filter((name) => (base & PermissionFlagsBits[name]) !== 0n)
  const problems: string[] = []
  const fixes: string[] = []
  const taken = new Set<PermissionName>()
  for (const category of ours) {
    const overwrites = (category.permission_overwrites ?? []) as OverwriteBits[]
    const lost = lackingPermissions(channelPermissions(base, subject, overwrites), granted)
    if (lost.length === 0) continue
    for (const name of lost) taken.add(name)
    const who = new Set(
      lost.flatMap((name) =>
        denyingOverwrites(name, subject, overwrites).map((o) =>
          overwriteName(o, subject, input.roles),
        ),
      ),
    )
    const whom = [...who].join(', ')
    problems.push(
      `"${category.name}" takes ${labels(lost)} away from the bot${whom ? ` (denied by the overwrite for ${whom})` : ''}`,
    )
    fixes.push(
      `right-click the category "${category.name}" → Edit Category → Permissions: for ${whom || 'the bot'} set ${labels(lost, true)} to allow or neutral (/), and Save Changes`,
    )
  }
  if (problems.length === 0) {
    return {
      check: discordCheck(
        'category-permissions',
        'ok',
        `the bot keeps every permission rooms need on ${ours.map((c) => `"${c.name}"`).join(', ')}`,
      ),
      taken: [],
    }
  }
  return {
    check: discordCheck(
      'category-permissions',
      'fail',
      problems.join('; '),
      `${fixes.join('; ')} (in a category, Manage Roles is called "Manage Permissions")`,
    ),
    taken: [...taken],
  }
}

function overwriteName(
  overwrite: OverwriteBits,
  subject: PermissionSubject,
  roles: readonly { id: string; name: string }[],
): string {
  if (overwrite.type === 1) return 'the bot itself'
  if (overwrite.id === subject.guildId) return '@everyone'
  const name = roles.find((role) => role.id === overwrite.id)?.name
  return name ? `the role "${name}"` : `the role ${overwrite.id}`
}
