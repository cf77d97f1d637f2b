import { createFileRoute } from '@tanstack/react-router'
import { z } from 'zod'
import { SignInButton } from '../features/auth/ui/auth-forms'
import { MessagePage } from '../ui/message-page'

export const Route = createFileRoute('/signed-out')({
  validateSearch: z.object({ reason: z.enum(['failed']).optional().catch(undefined) }),
  component: SignedOutPage,
})

function SignedOutPage() {
  const { reason } = Route.useSearch()
  return (
    <MessagePage title={reason === 'failed' ? 'Sign-in did not complete' : 'You are signed out'}>
      <p>
        {reason === 'failed'
          ? 'Discord did not confirm the sign-in. Please try again.'
          : 'Your session has ended and your Discord authorization was revoked.'}
      </p>
      <SignInButton returnTo="/" />
    </MessagePage>
  )
}
