/** The one logger method the REST layer uses (a pino logger fits). */
export interface WarnLogger {
  warn(details: Record<string, unknown>, message: string): void
}
