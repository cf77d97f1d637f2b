/**
 * The app's typed error. It lives in @repo/discord-integration beside the error table
 * (APP_ERRORS) and the mapping of Discord failures to it; the app's modules import it here.
 */
export { AppError, isAppError, toAppError } from '@repo/discord-integration'
