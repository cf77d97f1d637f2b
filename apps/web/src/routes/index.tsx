import { createFileRoute } from '@tanstack/react-router'

export const Route = createFileRoute('/')({
  component: Home,
})

function Home() {
  return (
    <main className="page">
      <section className="hero">
        <h1>Your playgroup, one private voice room away</h1>
        <p className="lead">
          Table Voice gives each webcam card game its own private Discord voice channel for up to
          four players, a signed invite link that lasts 24 hours, and a live list of who is in
          voice, muted or on camera.
        </p>
      </section>
    </main>
  )
}
