import { Link } from '@tanstack/react-router'
import type { ReactNode } from 'react'

/** A simple full-page message (room full, invite expired, room closed, signed out). */
export function MessagePage({
  title,
  tone = 'info',
  children,
}: {
  title: string
  tone?: 'info' | 'warn' | 'danger'
  children: ReactNode
}) {
  return (
    <main className="page narrow">
      <section className={`card message ${tone}`} aria-labelledby="message-title">
        <h1 id="message-title">{title}</h1>
        {children}
        <p>
          <Link to="/" className="button">
            Back to the lobby
          </Link>
        </p>
      </section>
    </main>
  )
}
