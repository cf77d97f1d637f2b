/**
 * A full collection, twice with a pause between (the first one's finalizers and weak callbacks
 * free more for the second). Needs `--expose-gc`; without it nothing happens and false is
 * returned.
 * @returns {Promise<boolean>}
 */
export async function fullGc() {
  const gc = globalThis.gc
  if (typeof gc !== 'function') return false
  gc()
  await new Promise((r) => setTimeout(r, 50))
  gc()
  return true
}
