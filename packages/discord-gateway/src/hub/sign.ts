import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** Header names of the hub protocol. */
export const HUB_HEADERS = {
  timestamp: 'x-hub-timestamp',
  nonce: 'x-hub-nonce',
  signature: 'x-hub-signature',
} as const

/** Requests older or newer than this (ms) are rejected. */
export const HUB_WINDOW_MS = 60_000

/** The string that is signed: `${timestamp}.${nonce}.${body}` (timestamp in epoch ms, decimal). */
export function signatureBase(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}.${nonce}.${body}`
}

/** `v1=` + hex HMAC-SHA256 of the signature base. */
export function computeSignature(
  secret: string,
  timestamp: string,
  nonce: string,
  body: string,
): string {
  return `v1=${createHmac('sha256', secret)
    .update(signatureBase(timestamp, nonce, body))
    .digest('hex')}`
}

/** Signs a body; returns the three headers to send with it. */
export function signHubRequest(
  secret: string,
  body: string,
  options: { timestamp?: number; nonce?: string } = {},
): Record<string, string> {
  const timestamp = String(options.timestamp ?? Date.now())
  const nonce = options.nonce ?? randomBytes(16).toString('hex')
  return {
    [HUB_HEADERS.timestamp]: timestamp,
    [HUB_HEADERS.nonce]: nonce,
    [HUB_HEADERS.signature]: computeSignature(secret, timestamp, nonce, body),
  }
}

/** Why a verification failed (for logs only; never sent to the caller). */
export type HubVerifyFailure = 'missing_headers' | 'stale' | 'bad_signature'

/**
 * Verifies headers + body: timestamp within the window of `now`, and a constant-time signature match.
 * Does not check nonce reuse (see NonceCache).
 */
export function verifyHubSignature(
  secret: string,
  headers: { timestamp: string | null; nonce: string | null; signature: string | null },
  body: string,
  now: number = Date.now(),
  windowMs: number = HUB_WINDOW_MS,
): { ok: true } | { ok: false; reason: HubVerifyFailure } {
  const { timestamp, nonce, signature } = headers
  if (
    !timestamp ||
    !nonce ||
    !signature ||
    !/^\d{1,16}$/.test(timestamp) ||
    !/^[A-Za-z0-9_-]{16,128}$/.test(nonce)
  ) {
    return { ok: false, reason: 'missing_headers' }
  }
  if (Math.abs(now - Number(timestamp)) > windowMs) return { ok: false, reason: 'stale' }
  const expected = Buffer.from(computeSignature(secret, timestamp, nonce, body))
  const given = Buffer.from(signature)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'bad_signature' }
  }
  return { ok: true }
}

/** Remembers nonces for twice the window so a captured request cannot be replayed. */
export class NonceCache {
  private readonly seen = new Map<string, number>()

  constructor(private readonly ttlMs: number = 2 * HUB_WINDOW_MS) {}

  /** Returns false if the nonce was already used (and records it otherwise). */
  use(nonce: string, now: number = Date.now()): boolean {
    if (this.seen.size > 1000) this.prune(now)
    const expiry = this.seen.get(nonce)
    if (expiry !== undefined && expiry > now) return false
    this.seen.set(nonce, now + this.ttlMs)
    return true
  }

  private prune(now: number): void {
    for (const [nonce, expiry] of this.seen) if (expiry <= now) this.seen.delete(nonce)
  }
}
