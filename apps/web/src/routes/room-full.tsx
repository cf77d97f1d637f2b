import { createFileRoute } from '@tanstack/react-router'
import { MessagePage } from '../ui/message-page'

export const Route = createFileRoute('/room-full')({
  component: RoomFullPage,
})

function RoomFullPage() {
  return (
    <MessagePage title="This room is full" tone="warn">
      <p>Four players are already seated. Ask the host to make space, or start your own room.</p>
    </MessagePage>
  )
}
