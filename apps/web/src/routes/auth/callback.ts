import { createFileRoute } from '@tanstack/react-router'
import { startRuntime } from '../../server/runtime.server'

export const Route = createFileRoute('/auth/callback')({
  server: {
    handlers: {
      GET: async ({ request }) => {
        const runtime = await startRuntime()
        try {
          const result = await runtime.auth.completeLogin(
            new URL(request.url),
            request.headers.get('cookie'),
          )
          const headers = new Headers({ location: result.returnTo, 'cache-control': 'no-store' })
          for (const cookie of result.setCookies) headers.append('set-cookie', cookie)
          return new Response(null, { status: 302, headers })
        } catch (error) {
          runtime.logger.warn({ err: error }, 'sign-in callback failed')
          const headers = new Headers({
            location: '/signed-out?reason=failed',
            'cache-control': 'no-store',
          })
          headers.append('set-cookie', runtime.auth.clearCookie('tv_login', '/auth'))
          return new Response(null, { status: 302, headers })
        }
      },
    },
  },
})
