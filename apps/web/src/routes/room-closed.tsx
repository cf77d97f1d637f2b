import { createFileRoute } from '@tanstack/react-router'
import { MessagePage } from '../ui/message-page'

export const Route = createFileRoute('/room-closed')({
  component: RoomClosedPage,
})

function RoomClosedPage() {
  return (
    <MessagePage title="This room is closed" tone="info">
      <p>
        The room was closed by its host or after an hour without anyone in it. Its voice channel is
        gone.
      </p>
    </MessagePage>
  )
}
