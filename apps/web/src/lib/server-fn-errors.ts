import {
  APP_ERRORS,
  type AppErrorBody,
  type AppErrorCode,
} from '@repo/discord-integration/contracts'
import type { z } from 'zod'

/**
 * The error a server function throws to the browser: only the stable code, the
 * table message, the HTTP status (used by TanStack Start as the response status)
 * and a retry hint. No cause, no stack, no Discord text.
 */
export interface PublicError extends Error {
  code: AppErrorCode
  status: number
  retryAfter?: number
}

/** Builds the browser-facing error for an AppError body. */
export function publicError(body: AppErrorBody): PublicError {
  const error = new Error(body.message) as PublicError
  error.name = 'AppError'
  error.code = body.code
  error.status = APP_ERRORS[body.code].status
  if (body.retryAfter !== undefined) error.retryAfter = body.retryAfter
  error.stack = `AppError: ${body.message}`
  return error
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
