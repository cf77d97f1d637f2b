import { DiscordAPIError, HTTPError, RateLimitError } from '@discordjs/rest'
import {
  type APIApplication,
  type APIGuild,
  type APIGuildCategoryChannel,
  type APIGuildMember,
  type APIUser,
  ApplicationFlags,
  ChannelType,
  PermissionFlagsBits,
  type RESTGetAPIGuildChannelsResult,
  Routes,
} from 'discord-api-types/v10'
import type { DiscordRest } from '../rest/discord-rest'
import { withDiscordRetry } from '../rest/retry'
import { botInstallUrl } from './install-link'
import {
  basePermissions,
  channelPermissions,
  denyingOverwrites,
  lackingPermissions,
  type OverwriteBits,
  type PermissionName,
  type PermissionSubject,
  permissionBits,
  permissionLabel,
} from './permissions'
import { type SetupCheck, setupCheck } from './setup-check'

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

/** The checks {@link checkDiscordSetup} makes, in their order: id → title. */
export const DISCORD_CHECK_TITLES = {
  'bot-token': 'bot token',
  application: 'application',
  'client-secret': 'client secret',
  redirect: 'OAuth2 redirect',
  intents: 'gateway intents',
  guild: 'bot in the server',
  'guild-permissions': 'server permissions',
  'category-permissions': 'room category permissions',
} as const

type CheckId = keyof typeof DISCORD_CHECK_TITLES

function check(
  id: CheckId,
  status: SetupCheck['status'],
  message: string,
  fix?: string,
): SetupCheck {
  return setupCheck(id, DISCORD_CHECK_TITLES[id], status, message, fix)
}

const PORTAL = 'Developer Portal (https://discord.com/developers/applications) → your application'
/** Application flags that say the Server Members intent is switched on (either size of app). */
const GUILD_MEMBERS_FLAGS =
  ApplicationFlags.GatewayGuildMembers | ApplicationFlags.GatewayGuildMembersLimited

/**
 * Checks a configuration against Discord, one check at a time, as the setup doctor and the
 * server's start-up check both need it: the bot token and whose it is, the client secret, the
 * registered OAuth2 redirect, the privileged intents, the bot's membership in the server, and its
 * permissions in the server and on the room categories (Discord's permission algorithm, each
 * missing one named as Discord's client names it). A check whose prerequisite failed is
 * `skipped`. Discord's answers are read through `rest` (GET /users/@me, GET /applications/@me,
 * POST /oauth2/token, GET /guilds/{g}, GET /guilds/{g}/members/{bot}, GET /guilds/{g}/channels);
 * nothing is changed.
 *
 * @see https://discord.com/developers/docs/resources/application#get-current-application
 * @see https://discord.com/developers/docs/topics/permissions#permission-overwrites
 */
export async function checkDiscordSetup(o: DiscordSetupOptions): Promise<DiscordSetupReport> {
  const checks: SetupCheck[] = []
  const permissions = permissionBits(o.requiredPermissions).toString()
  const installUrl = botInstallUrl({
    webUrl: o.webUrl,
    clientId: o.clientId,
    permissions,
    guildId: o.guildId,
  })
  const skip = (id: CheckId, because: string) => checks.push(check(id, 'skipped', because))
  const unreachable = (id: CheckId, error: unknown) =>
    checks.push(
      check(
        id,
        'error',
        `Discord did not answer as expected: ${describeFailure(error)}`,
        `check DISCORD_API_URL (${o.apiUrl}) and this machine's network, then run the doctor again`,
      ),
    )

  // The bot token: valid at all?
  const user = await attempt(() => o.rest.get(Routes.user()) as Promise<APIUser>)
  if (user.ok) {
    checks.push(
      check('bot-token', 'ok', `valid: bot user "${user.value.username}" (${user.value.id})`),
    )
  } else if (statusOf(user.error) === 401) {
    checks.push(
      check(
        'bot-token',
        'fail',
        'Discord refuses the bot token (401 Unauthorized)',
        `${PORTAL} → Bot → Reset Token; put the new token in DISCORD_BOT_TOKEN (or the file DISCORD_BOT_TOKEN_FILE names)`,
      ),
    )
  } else {
    unreachable('bot-token', user.error)
  }

  // Whose token it is, and the application's settings.
  let application: APIApplication | null = null
  if (!user.ok) {
    skip('application', 'needs a valid bot token')
  } else {
    const app = await attempt(
      () => o.rest.get(Routes.currentApplication()) as Promise<APIApplication>,
    )
    if (!app.ok) {
      unreachable('application', app.error)
    } else if (app.value.id !== o.clientId) {
      checks.push(
        check(
          'application',
          'fail',
          `the bot token belongs to application ${app.value.id} ("${app.value.name}"), not to DISCORD_CLIENT_ID ${o.clientId}`,
          `use one application for all three: its Client ID (OAuth2 page) in DISCORD_CLIENT_ID, its Client Secret in DISCORD_CLIENT_SECRET and its bot's token (Bot page → Reset Token) in DISCORD_BOT_TOKEN`,
        ),
      )
    } else {
      application = app.value
      checks.push(
        check(
          'application',
          'ok',
          `the token is the bot of application "${app.value.name}" (${app.value.id}) = DISCORD_CLIENT_ID`,
        ),
      )
    }
  }

  checks.push(await checkClientSecret(o))

  // Settings of the application the token belongs to.
  if (!application) {
    const because = user.ok
      ? 'needs the bot token and DISCORD_CLIENT_ID to be of one application'
      : 'needs a valid bot token'
    skip('redirect', because)
    skip('intents', because)
  } else {
    checks.push(checkRedirect(application, o.redirectUri))
    checks.push(checkIntents(application, o.guildMembersIntent))
  }

  // The server, the bot's place in it, and its permissions.
  const missing = new Set<PermissionName>()
  if (!user.ok) {
    skip('guild', 'needs a valid bot token')
    skip('guild-permissions', 'needs a valid bot token')
    skip('category-permissions', 'needs a valid bot token')
    return { checks, missingPermissions: [], permissions, installUrl }
  }
  const botId = user.value.id
  const guild = await attempt(() => o.rest.get(Routes.guild(o.guildId)) as Promise<APIGuild>)
  if (!guild.ok) {
    const status = statusOf(guild.error)
    if (status === 403 || status === 404) {
      checks.push(
        check(
          'guild',
          'fail',
          `the bot is not in the server DISCORD_GUILD_ID ${o.guildId} (Discord answers ${describeFailure(guild.error)})`,
          `open the install link below as someone with Manage Server in that server and add the bot; check that DISCORD_GUILD_ID is the server's ID (Discord: User Settings → Advanced → Developer Mode, then right-click the server → Copy Server ID)`,
        ),
      )
    } else {
      unreachable('guild', guild.error)
    }
    skip('guild-permissions', 'needs the bot in the server')
    skip('category-permissions', 'needs the bot in the server')
    return { checks, missingPermissions: [], permissions, installUrl }
  }
  checks.push(check('guild', 'ok', `the bot is in "${guild.value.name}" (${o.guildId})`))

  const member = await attempt(
    () => o.rest.get(Routes.guildMember(o.guildId, botId)) as Promise<APIGuildMember>,
  )
  if (!member.ok) {
    unreachable('guild-permissions', member.error)
    skip('category-permissions', 'needs the bot member')
    return { checks, missingPermissions: [], permissions, installUrl }
  }
  const subject: PermissionSubject = {
    guildId: o.guildId,
    ownerId: guild.value.owner_id,
    userId: botId,
    memberRoleIds: member.value.roles,
  }
  const base = basePermissions(subject, guild.value.roles)
  const lacking = lackingPermissions(base, o.requiredPermissions)
  for (const name of lacking) missing.add(name)
  const botRole = guild.value.roles.find((role) => role.tags?.bot_id === botId)
  if (lacking.length === 0) {
    checks.push(
      check(
        'guild-permissions',
        'ok',
        `the bot holds all ${o.requiredPermissions.length} permissions rooms need: ${labels(o.requiredPermissions)}`,
      ),
    )
  } else {
    const role = botRole ? `the role "${botRole.name}"` : "the bot's role"
    checks.push(
      check(
        'guild-permissions',
        'fail',
        `the bot lacks ${labels(lacking)} in the server`,
        `Server Settings → Roles → ${role} → Permissions: turn on ${labels(lacking)} and Save Changes (or open the install link below again: it asks for exactly what rooms need)`,
      ),
    )
  }

  const categories = await attempt(
    () => o.rest.get(Routes.guildChannels(o.guildId)) as Promise<RESTGetAPIGuildChannelsResult>,
  )
  if (!categories.ok) {
    unreachable('category-permissions', categories.error)
  } else {
    const category = checkCategories(categories.value, subject, base, guild.value.roles, o)
    for (const name of category.taken) missing.add(name)
    checks.push(category.check)
  }
  return {
    checks,
    missingPermissions: o.requiredPermissions.filter((name) => missing.has(name)),
    permissions,
    installUrl,
  }
}

/**
 * The client secret, without side effects: a token request with a code that cannot exist. Discord
 * authenticates the client first (401 `invalid_client` for a wrong secret) and only then looks at
 * the code (400 `invalid_grant`), as OAuth2 servers do (RFC 6749 §5.2).
 */
async function checkClientSecret(o: DiscordSetupOptions): Promise<SetupCheck> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: 'table-voice-setup-doctor',
    redirect_uri: o.redirectUri,
    client_id: o.clientId,
    client_secret: o.clientSecret,
  })
  const answer = await attempt(() =>
    o.rest.post(Routes.oauth2TokenExchange(), {
      body,
      passThroughBody: true,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      auth: false,
    }),
  )
  const status = answer.ok ? 200 : statusOf(answer.error)
  if (status === 401) {
    return check(
      'client-secret',
      'fail',
      `Discord does not accept DISCORD_CLIENT_ID ${o.clientId} with this DISCORD_CLIENT_SECRET (401 invalid_client)`,
      `${PORTAL} → OAuth2 → Client Secret (Reset Secret if you do not have it); put it in DISCORD_CLIENT_SECRET (or the file DISCORD_CLIENT_SECRET_FILE names)`,
    )
  }
  if (status === 400) {
    return check('client-secret', 'ok', 'Discord accepts the client id and secret')
  }
  return check(
    'client-secret',
    'error',
    `Discord did not answer as expected: ${answer.ok ? 'a token for a made-up code' : describeFailure(answer.error)}`,
    `check DISCORD_API_URL (${o.apiUrl}) and run the doctor again`,
  )
}

function checkRedirect(application: APIApplication, redirectUri: string): SetupCheck {
  const registered = (application as { redirect_uris?: string[] }).redirect_uris
  if (!registered) {
    return check(
      'redirect',
      'error',
      'Discord did not list the registered redirects (no redirect_uris in GET /applications/@me)',
      `check by hand: ${PORTAL} → OAuth2 → Redirects must list ${redirectUri}`,
    )
  }
  if (registered.includes(redirectUri)) {
    return check('redirect', 'ok', `${redirectUri} is registered`)
  }
  const others = registered.length ? ` (registered: ${registered.join(', ')})` : ' (none is)'
  return check(
    'redirect',
    'fail',
    `${redirectUri} is not registered${others}; sign-in fails with "Invalid OAuth2 redirect_uri"`,
    `${PORTAL} → OAuth2 → Redirects → Add Redirect: ${redirectUri}, then Save Changes (it must match PUBLIC_URL exactly: scheme, host, port)`,
  )
}

function checkIntents(application: APIApplication, guildMembersIntent: boolean): SetupCheck {
  const asked = 'Guilds, Guild Voice States (not privileged)'
  if (!guildMembersIntent) {
    return check('intents', 'ok', `the app asks for ${asked}; nothing to switch on in the portal`)
  }
  if ((application.flags & GUILD_MEMBERS_FLAGS) !== 0) {
    return check(
      'intents',
      'ok',
      `the app asks for ${asked} and Server Members (privileged, switched on)`,
    )
  }
  return check(
    'intents',
    'fail',
    'the app asks for the privileged Server Members intent (DISCORD_GUILD_MEMBERS_INTENT) but it is switched off: the gateway would be closed with 4014 "Disallowed intent(s)"',
    `${PORTAL} → Bot → Privileged Gateway Intents → switch on "Server Members Intent" and Save Changes, or unset DISCORD_GUILD_MEMBERS_INTENT (rooms do not need it)`,
  )
}

/**
 * The bot's permissions on the categories that hold room channels: what each one's overwrites
 * take away from what the server grants (a missing server permission is reported once, by the
 * server check). No category yet is fine: the app creates one with overwrites that keep the bot's
 * permissions.
 */
function checkCategories(
  channels: RESTGetAPIGuildChannelsResult,
  subject: PermissionSubject,
  base: bigint,
  roles: readonly { id: string; name: string }[],
  o: DiscordSetupOptions,
): { check: SetupCheck; taken: PermissionName[] } {
  const ours = channels.filter(
    (c): c is APIGuildCategoryChannel =>
      c.type === ChannelType.GuildCategory && c.name.startsWith(o.categoryPrefix),
  )
  if (ours.length === 0) {
    return {
      check: check(
        'category-permissions',
        'ok',
        `no room category yet: the app creates "${o.categoryPrefix} 1" with the overwrites it needs`,
      ),
      taken: [],
    }
  }
  const granted = o.requiredPermissions.filter((name) => (base & PermissionFlagsBits[name]) !== 0n)
  const problems: string[] = []
  const fixes: string[] = []
  const taken = new Set<PermissionName>()
  for (const category of ours) {
    const overwrites = (category.permission_overwrites ?? []) as OverwriteBits[]
    const held = channelPermissions(base, subject, overwrites)
    const lost = lackingPermissions(held, granted)
    if (lost.length === 0) continue
    for (const name of lost) taken.add(name)
    const who = new Set<string>()
    for (const name of lost) {
      for (const overwrite of denyingOverwrites(name, subject, overwrites)) {
        who.add(overwriteName(overwrite, subject, roles))
      }
    }
    const by = who.size ? ` (denied by the overwrite for ${[...who].join(', ')})` : ''
    problems.push(`"${category.name}" takes ${labels(lost)} away from the bot${by}`)
    fixes.push(
      `right-click the category "${category.name}" → Edit Category → Permissions: for ${who.size ? [...who].join(', ') : 'the bot'} set ${labels(lost, true)} to allow or neutral (/), and Save Changes`,
    )
  }
  if (problems.length === 0) {
    return {
      check: check(
        'category-permissions',
        'ok',
        `the bot keeps every permission rooms need on ${ours.map((c) => `"${c.name}"`).join(', ')}`,
      ),
      taken: [],
    }
  }
  return {
    check: check(
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

/** "Manage Channels, Move Members": permission names as Discord's client shows them. */
function labels(names: readonly PermissionName[], inChannel = false): string {
  return names
    .map((name) =>
      inChannel && name === 'ManageRoles'
        ? 'Manage Permissions'
        : inChannel && name === 'ViewChannel'
          ? 'View Channel'
          : permissionLabel(name),
    )
    .join(', ')
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: unknown }

/** One REST call (tried again once after a 5xx or a dropped connection), as a result. */
async function attempt<T>(call: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await withDiscordRetry(call, { attempts: 2 }) }
  } catch (error) {
    return { ok: false, error }
  }
}

function statusOf(error: unknown): number | undefined {
  return error instanceof DiscordAPIError || error instanceof HTTPError ? error.status : undefined
}

/**
 * A short description of a failed call for people: Discord's status and error, or the network
 * error's code. Never a token: @discordjs/rest's errors carry none, and only these fields are read.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof DiscordAPIError) {
    // Discord's message already starts with the status for some answers ("401: Unauthorized").
    if (error.message.startsWith(`${error.status}:`)) return error.message
    const code = error.code === 0 ? '' : ` ${error.code}`
    return `${error.status}${code} ${error.message}`
  }
  if (error instanceof HTTPError) return `HTTP ${error.status}`
  if (error instanceof RateLimitError) {
    return `rate limited for ${Math.ceil(Math.max(error.retryAfter, error.timeToReset) / 1000)} s`
  }
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: unknown } }).cause
    const code = (error as { code?: unknown }).code ?? cause?.code
    if (typeof code === 'string') return code
    return error.name === 'AbortError' || error.name === 'TimeoutError'
      ? 'no answer (timeout)'
      : error.name
  }
  return 'unknown error'
}
