import { createFileRoute } from '@tanstack/react-router'
import { MessagePage } from '../ui/message-page'

export const Route = createFileRoute('/invite-expired')({
  component: InviteExpiredPage,
})

function InviteExpiredPage() {
  return (
    <MessagePage title="This invite link has expired" tone="warn">
      <p>
        Invite links last 24 hours and stop working when the host makes a new one. Ask the host for
        a fresh link.
      </p>
    </MessagePage>
  )
}
