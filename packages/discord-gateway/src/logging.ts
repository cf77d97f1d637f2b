import type { Logger } from 'pino'

/**
 * A child logger that adds only the bindings its parent does not have yet. pino writes a child's
 * bindings after its parent's without merging them, so `parent.child({ component })` under a
 * parent that already binds `component` puts the key twice in every JSON line (and readers keep
 * only one of the two). The caller's names win: a web app that hands in a `component: 'gateway'`
 * logger keeps that name.
 */
export function childLogger(parent: Logger, bindings: Record<string, unknown>): Logger {
  const bound = parent.bindings()
  const added = Object.entries(bindings).filter(([key]) => !Object.hasOwn(bound, key))
  return parent.child(Object.fromEntries(added))
}
