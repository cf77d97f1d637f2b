import type { z } from 'zod'

/** Discord's JSON error body. */
export interface DiscordErrorBody {
  code: number
  message: string
  errors?: Record<string, unknown>
}

/**
 * An HTTP error answered exactly as Discord would (status + JSON body). Route handlers throw it;
 * the router turns it into the response.
 */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly body: DiscordErrorBody | Record<string, unknown>,
  ) {
    super(typeof body.message === 'string' ? body.message : `HTTP ${status}`)
  }
}

/** Discord's common errors. */
export const Errors = {
  unauthorized: () => new RestError(401, { message: '401: Unauthorized', code: 0 }),
  notFound: () => new RestError(404, { message: '404: Not Found', code: 0 }),
  methodNotAllowed: () => new RestError(405, { message: '405: Method Not Allowed', code: 0 }),
  unknownChannel: () => new RestError(404, { message: 'Unknown Channel', code: 10003 }),
  unknownGuild: () => new RestError(404, { message: 'Unknown Guild', code: 10004 }),
  unknownInvite: () => new RestError(404, { message: 'Unknown Invite', code: 10006 }),
  unknownMember: () => new RestError(404, { message: 'Unknown Member', code: 10007 }),
  unknownOverwrite: () => new RestError(404, { message: 'Unknown Overwrite', code: 10009 }),
  unknownRole: () => new RestError(404, { message: 'Unknown Role', code: 10011 }),
  unknownUser: () => new RestError(404, { message: 'Unknown User', code: 10013 }),
  unknownVoiceState: () => new RestError(404, { message: 'Unknown Voice State', code: 10065 }),
  maxChannels: (n: number) =>
    new RestError(400, { message: `Maximum number of guild channels reached (${n})`, code: 30013 }),
  notInVoice: () =>
    new RestError(400, { message: 'Target user is not connected to voice.', code: 40032 }),
  missingAccess: () => new RestError(403, { message: 'Missing Access', code: 50001 }),
  missingPermissions: () => new RestError(403, { message: 'Missing Permissions', code: 50013 }),
  wrongChannelType: () =>
    new RestError(400, { message: 'Cannot execute action on this channel type', code: 50024 }),
  invalidOAuthToken: () =>
    new RestError(403, { message: 'Invalid OAuth2 access token', code: 50025 }),
  invalidContentType: () =>
    new RestError(400, {
      code: 50035,
      message: 'Invalid Form Body',
      errors: {
        _errors: [
          {
            code: 'CONTENT_TYPE_INVALID',
            message: 'Expected "Content-Type" header to be one of {\'application/json\'}.',
          },
        ],
      },
    }),
  invalidJson: () =>
    new RestError(400, { message: 'The request body contains invalid JSON.', code: 50109 }),
}

/** One `_errors` entry of a 50035 tree. */
export interface FieldError {
  code: string
  message: string
}

/** Builds a 50035 "Invalid Form Body" error from field paths and messages. */
export function formError(fields: { path: (string | number)[]; error: FieldError }[]): RestError {
  const errors: Record<string, unknown> = {}
  for (const { path, error } of fields) {
    let node = errors
    for (const key of path) {
      const k = String(key)
      node[k] ??= {}
      node = node[k] as Record<string, unknown>
    }
    node._errors ??= []
    const list = node._errors as FieldError[]
    list.push(error)
  }
  return new RestError(400, { code: 50035, message: 'Invalid Form Body', errors })
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<PropertyKey, unknown>)[key]
  }
  return v
}

/**
 * Maps zod issues to Discord's error codes. Schemas may set a message "CODE|text" to choose the
 * code themselves.
 */
export function zodFormError(issues: readonly z.core.$ZodIssue[], body: unknown): RestError {
  return formError(
    issues.map((issue) => {
      const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))
      const value = valueAt(body, issue.path)
      return { path, error: mapIssue(issue, value) }
    }),
  )
}

function mapIssue(issue: z.core.$ZodIssue, value: unknown): FieldError {
  const custom = /^([A-Z_]+)\|(.*)$/.exec(issue.message)
  if (custom?.[1] && custom[2] !== undefined) return { code: custom[1], message: custom[2] }
  if (value === undefined) return { code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'number' || issue.expected === 'int') {
        return { code: 'NUMBER_TYPE_COERCE', message: `Value "${String(value)}" is not int.` }
      }
      if (issue.expected === 'boolean') {
        return { code: 'BASE_TYPE_BOOLEAN', message: 'Must be either true or false.' }
      }
      if (issue.expected === 'array') {
        return { code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }
      }
      return {
        code: 'BASE_TYPE_STRING',
        message: `Could not interpret "${String(value)}" as string.`,
      }
    case 'too_big':
      return {
        code: 'NUMBER_TYPE_MAX',
        message: `int value should be less than or equal to ${issue.maximum}.`,
      }
    case 'too_small':
      return {
        code: 'NUMBER_TYPE_MIN',
        message: `int value should be greater than or equal to ${issue.minimum}.`,
      }
    case 'invalid_value':
      return {
        code: 'BASE_TYPE_CHOICES',
        message: `Value must be one of {${issue.values.map(String).join(', ')}}.`,
      }
    case 'invalid_union':
      return { code: 'BASE_TYPE_CHOICES', message: 'Value is not one of the allowed choices.' }
    default:
      return { code: 'BASE_TYPE_INVALID', message: 'Invalid value.' }
  }
}
