import {
  type APIApplication,
  type APIGuild,
  type APIGuildMember,
  type APIUser,
  type RESTGetAPIGuildChannelsResult,
  Routes,
} from 'discord-api-types/v10'
import type { DiscordRest } from '../rest/discord-rest'
import {
  checkApplication,
  checkBotToken,
  checkClientSecret,
  checkIntents,
  checkRedirect,
} from './application-checks'
import { type Answer, ask, type DiscordCheckId, discordCheck, unanswered } from './discord-check'
import { botInstallUrl } from './install-link'
import { checkCategories, checkGuild, checkGuildPermissions } from './permission-checks'
import { basePermissions, type PermissionName, permissionBits } from './permissions'
import type { SetupCheck } from './setup-check'

/** What {@link checkDiscordSetup} checks a configuration against. */
export interface DiscordSetupOptions {
  /** A REST client with the bot token (`createDiscordRest`). */
  rest: DiscordRest
  /** `DISCORD_API_URL`, for messages only. */
  apiUrl: string
  /** `DISCORD_WEB_URL`: where the install link points (discord.com or the emulator). */
  webUrl: string
  clientId: string
  clientSecret: string
  guildId: string
  /** The OAuth2 redirect the app sends (`${PUBLIC_URL}/auth/callback`). */
  redirectUri: string
  /** What the bot must hold in the server and on the room categories. */
  requiredPermissions: readonly PermissionName[]
  /** Whether the app asks for the privileged Server Members intent (GUILD_MEMBERS). */
  guildMembersIntent: boolean
  /** Name prefix of the categories the app creates for room channels. */
  categoryPrefix: string
}

/** The Discord part of the setup doctor's report. */
export interface DiscordSetupReport {
  /** One per id of DISCORD_CHECK_TITLES, in that order. */
  checks: SetupCheck[]
  /**
   * Required permissions the bot lacks in the server or on a room category (API names); empty
   * when it holds them all or when they could not be checked.
   */
  missingPermissions: PermissionName[]
  /** The `permissions` integer of the install link: exactly the required permissions. */
  permissions: string
  /** The bot's install link, with that integer and the server preselected. */
  installUrl: string
}

/**
 * Checks a configuration against Discord, as the setup doctor and the server's start-up check
 * both need it: the bot token and whose it is, the client secret, the registered OAuth2 redirect,
 * the privileged intents, the bot's membership in the server, and its permissions in the server
 * and on the room categories (Discord's permission algorithm, each missing one named as Discord's
 * client names it). A check whose prerequisite failed is `skipped`; one Discord did not answer is
 * an `error`. It only reads, in two rounds of parallel calls: GET /users/@me and POST
 * /oauth2/token (a made-up code), then GET /applications/@me, /guilds/{g},
 * /guilds/{g}/members/{bot} and /guilds/{g}/channels. It never throws.
 *
 * @see https://discord.com/developers/docs/resources/application#get-current-application
 * @see https://discord.com/developers/docs/topics/permissions#permission-overwrites
 */
export async function checkDiscordSetup(o: DiscordSetupOptions): Promise<DiscordSetupReport> {
  const permissions = permissionBits(o.requiredPermissions).toString()
  const installUrl = botInstallUrl({
    webUrl: o.webUrl,
    clientId: o.clientId,
    permissions,
    guildId: o.guildId,
  })
  const report = (checks: SetupCheck[], missing: readonly PermissionName[] = []) => ({
    checks,
    missingPermissions: o.requiredPermissions.filter((name) => missing.includes(name)),
    permissions,
    installUrl,
  })
  const skipped = (because: string, ...ids: DiscordCheckId[]) =>
    ids.map((id) => discordCheck(id, 'skipped', because))

  const [user, clientSecret] = await Promise.all([
    ask(() => o.rest.get(Routes.user()) as Promise<APIUser>),
    checkClientSecret(o),
  ])
  const token = checkBotToken(user, o.apiUrl)
  if (!user.ok) {
    return report([
      token,
      ...skipped('needs a valid bot token', 'application'),
      clientSecret,
      ...skipped('needs a valid bot token', 'redirect', 'intents', 'guild'),
      ...skipped('needs a valid bot token', 'guild-permissions', 'category-permissions'),
    ])
  }

  const botId = user.value.id
  const [app, guild, member, channels] = await Promise.all([
    ask(() => o.rest.get(Routes.currentApplication()) as Promise<APIApplication>),
    ask(() => o.rest.get(Routes.guild(o.guildId)) as Promise<APIGuild>),
    ask(() => o.rest.get(Routes.guildMember(o.guildId, botId)) as Promise<APIGuildMember>),
    ask(
      () => o.rest.get(Routes.guildChannels(o.guildId)) as Promise<RESTGetAPIGuildChannelsResult>,
    ),
  ])
  const application = checkApplication(app, o.clientId, o.apiUrl)
  const settings =
    app.ok && application.status === 'ok'
      ? [checkRedirect(app.value, o.redirectUri), checkIntents(app.value, o.guildMembersIntent)]
      : skipped(
          app.ok
            ? 'needs the bot token and DISCORD_CLIENT_ID to be of one application'
            : 'needs the application',
          'redirect',
          'intents',
        )
  const head = [token, application, clientSecret, ...settings]
  const inGuild = checkGuild(guild, o.guildId, o.apiUrl)
  if (!guild.ok) {
    return report([
      ...head,
      inGuild,
      ...skipped('needs the bot in the server', 'guild-permissions', 'category-permissions'),
    ])
  }
  if (!member.ok) {
    return report([
      ...head,
      inGuild,
      unanswered('guild-permissions', member.error, o.apiUrl),
      ...skipped('needs the bot member', 'category-permissions'),
    ])
  }
  const subject = {
    guildId: o.guildId,
    ownerId: guild.value.owner_id,
    userId: botId,
    memberRoleIds: member.value.roles,
  }
  const base = basePermissions(subject, guild.value.roles)
  const botRole = guild.value.roles.find((role) => role.tags?.bot_id === botId)
  const server = checkGuildPermissions(base, o.requiredPermissions, botRole?.name)
  const categories = channelsCheck(channels, o, { subject, base, roles: guild.value.roles })
  return report(
    [...head, inGuild, server.check, categories.check],
    [...server.lacking, ...categories.taken],
  )
}

function channelsCheck(
  channels: Answer<RESTGetAPIGuildChannelsResult>,
  o: DiscordSetupOptions,
  input: Pick<Parameters<typeof checkCategories>[0], 'subject' | 'base' | 'roles'>,
): { check: SetupCheck; taken: PermissionName[] } {
  if (!channels.ok) {
    return { check: unanswered('category-permissions', channels.error, o.apiUrl), taken: [] }
  }
  return checkCategories({
    ...input,
    channels: channels.value,
    prefix: o.categoryPrefix,
    required: o.requiredPermissions,
  })
}
