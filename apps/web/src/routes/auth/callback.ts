import { createFileRoute } from '@tanstack/react-router'
import { LOGIN_COOKIE } from '../../features/auth/auth-service.server'
import { withRuntime } from '../../server/middleware/runtime'

export const Route = createFileRoute('/auth/callback')({
  server: {
    middleware: [withRuntime],
    handlers: {
      GET: async ({ request, context: { auth } }) => {
        try {
          const result = await auth.completeLogin(
            new URL(request.url),
            request.headers.get('cookie'),
          )
          const headers = new Headers({ location: result.returnTo, 'cache-control': 'no-store' })
          for (const cookie of result.setCookies) headers.append('set-cookie', cookie)
          return new Response(null, { status: 302, headers })
        } catch (error) {
          // Anyone can send these: the line is rate-limited (auth.refusals).
          auth.refusals.warn({ err: error }, 'sign-in callback failed')
          const headers = new Headers({
            location: '/signed-out?reason=failed',
            'cache-control': 'no-store',
          })
          headers.append('set-cookie', auth.clearCookie(LOGIN_COOKIE, '/auth'))
          return new Response(null, { status: 302, headers })
        }
      },
    },
  },
})
