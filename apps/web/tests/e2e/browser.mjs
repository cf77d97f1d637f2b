// Shared e2e helpers: Debian's Chromium through playwright-core, and the URLs
// of the servers scripts/e2e.sh started.
import { chromium } from 'playwright-core'

export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:3100'
export const EMULATOR_URL = process.env.EMULATOR_URL ?? 'http://127.0.0.1:8788'

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** The server's secrets for this run (scripts/e2e.sh exports them). */
export const SECRETS = Object.entries({
  DISCORD_BOT_TOKEN: process.env.DISCORD_BOT_TOKEN,
  DISCORD_CLIENT_SECRET: process.env.DISCORD_CLIENT_SECRET,
  SESSION_SECRET: process.env.SESSION_SECRET,
  METRICS_TOKEN: process.env.METRICS_TOKEN,
}).filter(([, value]) => typeof value === 'string' && value.length >= 8)

/**
 * Collects page errors, failed responses, and any response from our server whose
 * body or headers contain a server secret, so a test can assert there were none.
 */
export function watchPage(page) {
  const problems = []
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('response', async (response) => {
    const url = new URL(response.url())
    if (response.status() >= 400) {
      problems.push(`${response.status()} ${url.pathname}`)
    }
    if (url.origin !== new URL(BASE_URL).origin || SECRETS.length === 0) return
    let text = Object.entries(await response.allHeaders().catch(() => ({})))
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n')
    if (response.status() < 300 || response.status() >= 400) {
      text += await response.text().catch(() => '')
    }
    for (const [name, value] of SECRETS) {
      if (text.includes(value)) problems.push(`${name} in the response of ${url.pathname}`)
    }
  })
  return problems
}

/** Calls the emulator's control API. */
export async function emulator(path, body) {
  const response = await fetch(`${EMULATOR_URL}/_emulator${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`emulator ${path}: ${response.status} ${await response.text()}`)
  return response.status === 204 ? null : response.json()
}
