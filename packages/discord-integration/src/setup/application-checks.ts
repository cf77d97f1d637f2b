import { type APIApplication, type APIUser, ApplicationFlags, Routes } from 'discord-api-types/v10'
import type { DiscordRest } from '../rest/discord-rest'
import {
  type Answer,
  ask,
  describeFailure,
  discordCheck,
  PORTAL,
  statusOf,
  unanswered,
} from './discord-check'
import type { SetupCheck } from './setup-check'

/*
 * The checks of the Discord application: the bot token, whose it is, the client secret, the
 * registered redirect and the privileged intents (Developer Portal: Bot and OAuth2 pages).
 */

/** Application flags that say the Server Members intent is switched on (either size of app). */
const GUILD_MEMBERS_FLAGS =
  ApplicationFlags.GatewayGuildMembers | ApplicationFlags.GatewayGuildMembersLimited

/** `GET /users/@me` with the bot token: does Discord accept it? */
export function checkBotToken(user: Answer<APIUser>, apiUrl: string): SetupCheck {
  if (user.ok) {
    return discordCheck(
      'bot-token',
      'ok',
      `valid: bot user "${user.value.username}" (${user.value.id})`,
    )
  }
  if (statusOf(user.error) === 401) {
    return discordCheck(
      'bot-token',
      'fail',
      'Discord refuses the bot token (401 Unauthorized)',
      `${PORTAL} → Bot → Reset Token; put the new token in DISCORD_BOT_TOKEN (or the file DISCORD_BOT_TOKEN_FILE names)`,
    )
  }
  return unanswered('bot-token', user.error, apiUrl)
}

/** `GET /applications/@me`: is the token the bot of DISCORD_CLIENT_ID's application? */
export function checkApplication(
  app: Answer<APIApplication>,
  clientId: string,
  apiUrl: string,
): SetupCheck {
  if (!app.ok) return unanswered('application', app.error, apiUrl)
  if (app.value.id !== clientId) {
    return discordCheck(
      'application',
      'fail',
      `the bot token belongs to application ${app.value.id} ("${app.value.name}"), not to DISCORD_CLIENT_ID ${clientId}`,
      `use one application for all three: its Client ID (OAuth2 page) in DISCORD_CLIENT_ID, its Client Secret in DISCORD_CLIENT_SECRET and its bot's token (Bot page → Reset Token) in DISCORD_BOT_TOKEN`,
    )
  }
  return discordCheck(
    'application',
    'ok',
    `the token is the bot of application "${app.value.name}" (${app.value.id}) = DISCORD_CLIENT_ID`,
  )
}

/**
 * The client secret, without side effects: a token request with a code that cannot exist. Discord
 * authenticates the client first (401 `invalid_client` for a wrong secret) and only then looks at
 * the code (400 `invalid_grant`), as OAuth2 servers do (RFC 6749 §5.2).
 */
export async function checkClientSecret(o: {
  rest: DiscordRest
  apiUrl: string
  clientId: string
  clientSecret: string
  redirectUri: string
}): Promise<SetupCheck> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: 'table-voice-setup-doctor',
    redirect_uri: o.redirectUri,
    client_id: o.clientId,
    client_secret: o.clientSecret,
  })
  const answer = await ask(() =>
    o.rest.post(Routes.oauth2TokenExchange(), {
      body,
      passThroughBody: true,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      auth: false,
    }),
  )
  const status = answer.ok ? 200 : statusOf(answer.error)
  if (status === 401) {
    return discordCheck(
      'client-secret',
      'fail',
      `Discord does not accept DISCORD_CLIENT_ID ${o.clientId} with this DISCORD_CLIENT_SECRET (401 invalid_client)`,
      `${PORTAL} → OAuth2 → Client Secret (Reset Secret if you do not have it); put it in DISCORD_CLIENT_SECRET (or the file DISCORD_CLIENT_SECRET_FILE names)`,
    )
  }
  if (status === 400) {
    return discordCheck('client-secret', 'ok', 'Discord accepts the client id and secret')
  }
  return discordCheck(
    'client-secret',
    'error',
    `Discord did not answer as expected: ${answer.ok ? 'a token for a made-up code' : describeFailure(answer.error)}`,
    `check DISCORD_API_URL (${o.apiUrl}) and run the doctor again`,
  )
}

/** The application's `redirect_uris` include the app's `${PUBLIC_URL}/auth/callback`. */
export function checkRedirect(application: APIApplication, redirectUri: string): SetupCheck {
  const registered = (application as { redirect_uris?: string[] }).redirect_uris
  if (!registered) {
    return discordCheck(
      'redirect',
      'error',
      'Discord did not list the registered redirects (no redirect_uris in GET /applications/@me)',
      `check by hand: ${PORTAL} → OAuth2 → Redirects must list ${redirectUri}`,
    )
  }
  if (registered.includes(redirectUri)) {
    return discordCheck('redirect', 'ok', `${redirectUri} is registered`)
  }
  const others = registered.length ? ` (registered: ${registered.join(', ')})` : ' (none is)'
  return discordCheck(
    'redirect',
    'fail',
    `${redirectUri} is not registered${others}; sign-in fails with "Invalid OAuth2 redirect_uri"`,
    `${PORTAL} → OAuth2 → Redirects → Add Redirect: ${redirectUri}, then Save Changes (it must match PUBLIC_URL exactly: scheme, host, port)`,
  )
}

/** A privileged intent the app asks for is switched on (the application's flags). */
export function checkIntents(application: APIApplication, guildMembersIntent: boolean): SetupCheck {
  const asked = 'Guilds, Guild Voice States (not privileged)'
  if (!guildMembersIntent) {
    return discordCheck(
      'intents',
      'ok',
      `the app asks for ${asked}; nothing to switch on in the portal`,
    )
  }
  if ((application.flags & GUILD_MEMBERS_FLAGS) !== 0) {
    return discordCheck(
      'intents',
      'ok',
      `the app asks for ${asked} and Server Members (privileged, switched on)`,
    )
  }
  return discordCheck(
    'intents',
    'fail',
    'the app asks for the privileged Server Members intent (DISCORD_GUILD_MEMBERS_INTENT) but it is switched off: the gateway would be closed with 4014 "Disallowed intent(s)"',
    `${PORTAL} → Bot → Privileged Gateway Intents → switch on "Server Members Intent" and Save Changes, or unset DISCORD_GUILD_MEMBERS_INTENT (rooms do not need it)`,
  )
}
