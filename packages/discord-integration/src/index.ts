/**
 * `@repo/discord-integration`, the server entry: Discord REST and OAuth access for the app (the
 * REST client with @discordjs/rest's rate limiting, the bounded retry, the mapping of Discord
 * failures to the app's typed error, the OAuth2 client), the setup checks against Discord (the
 * setup doctor's and the server's start-up check: token, application, redirect, intents, the bot's
 * membership and permissions), plus everything in `./contracts`.
 * Browser code imports `@repo/discord-integration/contracts` only.
 */
export { AppError, isAppError, toAppError } from './app-error'
export * from './contracts/index'
export {
  COMMUNITY_OAUTH_SCOPES,
  createPkce,
  OAUTH_SCOPES,
  OAuthClient,
  type OAuthClientOptions,
  type OAuthTokens,
  type OAuthUser,
  randomNonce,
} from './oauth/oauth-client'
export {
  describeDiscordError,
  discordCode,
  discordStatus,
  isRevokedAuthorization,
  isTransientDiscordFailure,
  toDiscordFailure,
} from './rest/discord-failures'
export {
  createDiscordRest,
  type DiscordRest,
  type DiscordRestOptions,
  rateLimitTooLong,
} from './rest/discord-rest'
export {
  fetchBotGuildIds,
  fetchGuildRoles,
  fetchMemberRoles,
  fetchUserGuilds,
  type GuildRole,
  type PartialGuild,
} from './rest/guild-reads'
export { DISCORD_RETRY_BACKOFF, type RetryOptions, withDiscordRetry } from './rest/retry'
export type { WarnLogger } from './rest/warn-logger'
export { DISCORD_CHECK_TITLES, type DiscordCheckId } from './setup/discord-check'
export {
  checkDiscordSetup,
  type DiscordSetupOptions,
  type DiscordSetupReport,
} from './setup/discord-setup-checks'
export { botInstallUrl } from './setup/install-link'
export {
  ALL_PERMISSIONS,
  basePermissions,
  channelPermissions,
  denyingOverwrites,
  lackingPermissions,
  type OverwriteBits,
  type PermissionName,
  type PermissionSubject,
  permissionBits,
  permissionLabel,
  type RoleBits,
} from './setup/permissions'
export {
  allChecksHold,
  type SetupCheck,
  type SetupCheckStatus,
  setupCheck,
} from './setup/setup-check'
