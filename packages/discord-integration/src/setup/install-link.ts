/**
 * The bot's install link (Discord's bot authorization flow): `scope=bot` with the exact
 * `permissions` integer, the server preselected with `guild_id`. `webUrl` is `DISCORD_WEB_URL`:
 * `https://discord.com`, or the emulator, which serves the same flow at its own
 * `/oauth2/authorize`.
 *
 * @see https://discord.com/developers/docs/topics/oauth2#bot-authorization-flow
 * @example
 * botInstallUrl({ webUrl: 'https://discord.com', clientId: '157730590492196864', permissions: '16', guildId: '290926792226357250' })
 * // https://discord.com/oauth2/authorize?client_id=157730590492196864&scope=bot&permissions=16&guild_id=290926792226357250
 */
export function botInstallUrl(input: {
  webUrl: string
  clientId: string
  /** The permission bitfield as a decimal string. */
  permissions: string
  guildId: string
}): string {
  const url = new URL('/oauth2/authorize', input.webUrl)
  url.searchParams.set('client_id', input.clientId)
  url.searchParams.set('scope', 'bot')
  url.searchParams.set('permissions', input.permissions)
  url.searchParams.set('guild_id', input.guildId)
  return url.toString()
}
