import {
  APP_ERRORS,
  type AppErrorBody,
  AppErrorBodySchema,
  type AppErrorCode,
} from '@repo/discord-integration/contracts'
import type { z } from 'zod'

/**
 * How a failed server function reaches the browser (specs/017-discord-gateway-real/contracts/
 * server-functions.md): an HTTP answer with the code's status, the JSON body `{code, message,
 * retryAfter?}` and `Retry-After` when rate limited. The server's function middleware
 * (src/server/middleware/server-fn.ts) sends it with {@link errorResponse}; its client side reads
 * it back with {@link errorFromResponse} into a {@link PublicError}, which the pages read with
 * {@link errorCodeOf}.
 */

/**
 * The error a server function call rejects with in the browser: only the stable code, the
 * table message, the HTTP status and a retry hint. No cause, no stack, no Discord text.
 */
export interface PublicError extends Error {
  code: AppErrorCode
  status: number
  retryAfter?: number
}

/** Marks the errors made by {@link publicError} (see {@link isPublicError}). */
const PUBLIC_ERROR_BRAND: unique symbol = Symbol.for('table-voice.PublicError') as never

/** Builds the browser-facing error for an AppError body. */
export function publicError(body: AppErrorBody): PublicError {
  const error = new Error(body.message) as PublicError
  error.name = 'AppError'
  error.code = body.code
  error.status = APP_ERRORS[body.code].status
  if (body.retryAfter !== undefined) error.retryAfter = body.retryAfter
  error.stack = `AppError: ${body.message}`
  Object.defineProperty(error, PUBLIC_ERROR_BRAND, { value: true })
  return error
}

/** True for an error made by {@link publicError} (a validator's INVALID_INPUT, a decoded answer). */
export function isPublicError(error: unknown): error is PublicError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [PUBLIC_ERROR_BRAND]?: unknown })[PUBLIC_ERROR_BRAND] === true
  )
}

/** The HTTP answer of a failed server function: the code's status, the body as JSON. */
export function errorResponse(body: AppErrorBody): Response {
  const headers = new Headers({ 'cache-control': 'no-store' })
  if (body.retryAfter !== undefined) headers.set('retry-after', String(body.retryAfter))
  return Response.json(
    { code: body.code, message: APP_ERRORS[body.code].message, retryAfter: body.retryAfter },
    { status: APP_ERRORS[body.code].status, headers },
  )
}

/**
 * Reads a failed server function's answer back into the error the call rejects with. An answer
 * that is not a typed error (a proxy's error page, say) becomes INTERNAL.
 */
export async function errorFromResponse(response: Response): Promise<PublicError> {
  const body = AppErrorBodySchema.safeParse(await response.json().catch(() => null))
  if (!body.success) {
    return publicError({ code: 'INTERNAL', message: APP_ERRORS.INTERNAL.message })
  }
  return publicError({ ...body.data, message: APP_ERRORS[body.data.code].message })
}

/** A server-function validator: parses with `schema`, or throws INVALID_INPUT (400). */
export function validateWith<S extends z.ZodType>(schema: S): (input: unknown) => z.output<S> {
  return (input: unknown) => {
    const result = schema.safeParse(input)
    if (!result.success) {
      throw publicError({ code: 'INVALID_INPUT', message: APP_ERRORS.INVALID_INPUT.message })
    }
    return result.data
  }
}

/**
 * Reads the app error code out of anything a server function call threw in the
 * browser (the serialised error keeps `code`; the message is the fallback).
 */
export function errorCodeOf(error: unknown): AppErrorCode {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && code in APP_ERRORS) return code as AppErrorCode
    const message = (error as { message?: unknown }).message
    for (const [key, value] of Object.entries(APP_ERRORS)) {
      if (value.message === message) return key as AppErrorCode
    }
  }
  return 'INTERNAL'
}

/** The message to show for a caught error. */
export function errorMessageOf(error: unknown): string {
  return APP_ERRORS[errorCodeOf(error)].message
}
