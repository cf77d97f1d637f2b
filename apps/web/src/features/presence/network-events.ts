/**
 * Follows the browser's online/offline events; returns the detach. Outside a browser (no
 * `window`) nothing is watched.
 */
export function watchNetwork(onChange: (online: boolean) => void): () => void {
  if (typeof window === 'undefined') return () => {}
  const online = () => onChange(true)
  const offline = () => onChange(false)
  window.addEventListener('online', online)
  window.addEventListener('offline', offline)
  return () => {
    window.removeEventListener('online', online)
    window.removeEventListener('offline', offline)
  }
}
