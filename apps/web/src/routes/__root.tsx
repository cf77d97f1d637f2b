import { createRootRoute, HeadContent, Link, Outlet, Scripts } from '@tanstack/react-router'
import type { ReactNode } from 'react'
import appCss from '../styles/app.css?url'

export const Route = createRootRoute({
  head: () => ({
    meta: [
      { charSet: 'utf-8' },
      { name: 'viewport', content: 'width=device-width, initial-scale=1' },
      { title: 'Table Voice: private rooms with live Discord voice' },
      { name: 'theme-color', content: '#14161c' },
      {
        name: 'description',
        content:
          'Create a private game room for webcam card games with its own Discord voice channel.',
      },
    ],
    links: [
      { rel: 'stylesheet', href: appCss },
      // public/: icon.svg, and the bitmaps scripts/make-icons.mjs renders from it
      { rel: 'icon', href: '/favicon.ico', sizes: '16x16 32x32 48x48' },
      { rel: 'icon', href: '/icon.svg', type: 'image/svg+xml' },
      { rel: 'apple-touch-icon', href: '/apple-touch-icon.png' },
      { rel: 'manifest', href: '/site.webmanifest' },
    ],
  }),
  component: RootComponent,
  notFoundComponent: () => (
    <main className="page narrow">
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the lobby</Link>
      </p>
    </main>
  ),
})

function RootComponent() {
  return (
    <RootDocument>
      <Outlet />
    </RootDocument>
  )
}

function RootDocument({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <HeadContent />
      </head>
      <body>
        <header className="topbar">
          <Link to="/" className="brand">
            Table Voice
          </Link>
        </header>
        {children}
        <Scripts />
      </body>
    </html>
  )
}
