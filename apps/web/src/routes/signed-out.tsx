import { createFileRoute } from '@tanstack/react-router'
import { z } from 'zod'
import { SignInButton } from '../features/auth/ui/auth-forms'
import { MessagePage } from '../ui/message-page'

export const Route = createFileRoute('/signed-out')({
  validateSearch: z.object({
    reason: z.enum(['failed', 'everywhere']).optional().catch(undefined),
  }),
  component: SignedOutPage,
})

const TEXT = {
  failed: {
    title: 'Sign-in did not complete',
    body: 'Discord did not confirm the sign-in. Please try again.',
  },
  everywhere: {
    title: 'You are signed out everywhere',
    body: 'Every session of your account has ended, in every browser, and your Discord authorizations were revoked.',
  },
  signedOut: {
    title: 'You are signed out',
    body: 'Your session has ended and your Discord authorization was revoked.',
  },
} as const

function SignedOutPage() {
  const { reason } = Route.useSearch()
  const text = TEXT[reason ?? 'signedOut']
  return (
    <MessagePage title={text.title}>
      <p>{text.body}</p>
      <SignInButton returnTo="/" />
    </MessagePage>
  )
}
