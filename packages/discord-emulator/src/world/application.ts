import { type APIApplication, ApplicationFlags } from 'discord-api-types/v10'
import type { ParsedWorldSeed } from './seed.ts'
import { toApiUser } from './serialize.ts'
import type { UserRecord } from './types.ts'

/** A privileged intent by its Developer Portal name. */
export type PrivilegedIntentName = 'GUILD_MEMBERS' | 'GUILD_PRESENCES' | 'MESSAGE_CONTENT'

/**
 * The bot's application as its owner configured it in the Developer Portal. Mutable at run time
 * through the control API (a misconfiguration for the setup doctor); a reset restores the seed.
 */
export interface ApplicationConfig {
  /** Client id = application id = bot user id. */
  id: string
  name: string
  description: string
  clientSecret: string
  /** "Privileged Gateway Intents" toggled on (Bot page). */
  privilegedIntents: PrivilegedIntentName[]
  /** OAuth2 redirect URIs registered on the OAuth2 page. */
  redirectUris: string[]
  /** Servers the app is in; 100 or more switches the intent flags to the unlimited ones. */
  approximateGuildCount: number
  botPublic: boolean
  botRequireCodeGrant: boolean
}

/** The application part of a seed, with its id. */
export function applicationFromSeed(seed: ParsedWorldSeed): ApplicationConfig {
  const a = seed.application
  return {
    id: seed.bot.id,
    name: a.name,
    description: a.description,
    clientSecret: a.clientSecret,
    privilegedIntents: [...a.privilegedIntents],
    redirectUris: [...a.redirectUris],
    approximateGuildCount: a.approximateGuildCount,
    botPublic: a.botPublic,
    botRequireCodeGrant: a.botRequireCodeGrant,
  }
}

/**
 * Public flags of the application. An enabled privileged intent shows as its `_LIMITED` flag for
 * apps in fewer than 100 servers and as the unlimited flag from 100 on
 * (docs resources/application "Application Flags").
 */
export function applicationFlags(app: ApplicationConfig): number {
  const large = app.approximateGuildCount >= 100
  const bits: Record<PrivilegedIntentName, [number, number]> = {
    GUILD_MEMBERS: [
      ApplicationFlags.GatewayGuildMembers,
      ApplicationFlags.GatewayGuildMembersLimited,
    ],
    GUILD_PRESENCES: [ApplicationFlags.GatewayPresence, ApplicationFlags.GatewayPresenceLimited],
    MESSAGE_CONTENT: [
      ApplicationFlags.GatewayMessageContent,
      ApplicationFlags.GatewayMessageContentLimited,
    ],
  }
  let flags = 0
  for (const name of app.privilegedIntents) flags |= bits[name][large ? 0 : 1]
  return flags
}

/** Installation context GUILD_INSTALL, the only one the emulated app supports. */
const GUILD_INSTALL = '0'

/** A deterministic 64-hex-digit verify key (Discord's is an Ed25519 public key). */
function verifyKey(id: string): string {
  return Buffer.from(id.padEnd(32, '0')).toString('hex').slice(0, 64)
}

/** The application object of `GET /applications/@me` (docs resources/application "Application Object"). */
export function toApiApplication(
  app: ApplicationConfig,
  bot: UserRecord,
  owner: UserRecord | undefined,
): APIApplication {
  const flags = applicationFlags(app)
  // Documented fields only (the real answer carries a few more undocumented ones).
  return {
    id: app.id,
    name: app.name,
    icon: null,
    description: app.description,
    bot_public: app.botPublic,
    bot_require_code_grant: app.botRequireCodeGrant,
    bot: toApiUser(bot),
    ...(owner ? { owner: toApiUser(owner) } : {}),
    verify_key: verifyKey(app.id),
    team: null,
    flags,
    flags_new: String(flags),
    approximate_guild_count: app.approximateGuildCount,
    approximate_user_install_count: 0,
    approximate_user_authorization_count: 0,
    redirect_uris: [...app.redirectUris],
    interactions_endpoint_url: null,
    role_connections_verification_url: null,
    event_webhooks_url: null,
    event_webhooks_status: 1,
    integration_types_config: { [GUILD_INSTALL]: {} },
  } as unknown as APIApplication
}
