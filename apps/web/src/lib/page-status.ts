import { createIsomorphicFn } from '@tanstack/react-start'
import { setResponseStatus } from '@tanstack/react-start/server'

/**
 * Sets the HTTP status of the page being rendered on the server, for a loader that renders its
 * own error page instead of throwing (a thrown loader error always answers 500). In the browser
 * (client-side navigation) there is no response: it does nothing.
 */
export const setPageStatus = createIsomorphicFn()
  .server((status: number) => setResponseStatus(status))
  .client((_status: number) => {})
