import type { ReactNode } from 'react'

/**
 * Small inline SVG icons for voice states, so they render the same everywhere
 * (emoji depend on the system's fonts). Decorative: the caller labels them.
 */
function Icon({ children }: { children: ReactNode }) {
  return (
    <svg
      viewBox="0 0 24 24"
      width="16"
      height="16"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  )
}

export function MutedIcon() {
  return (
    <Icon>
      <path d="M9 5a3 3 0 0 1 6 0v6a3 3 0 0 1-.6 1.8M9 9v2a3 3 0 0 0 4.4 2.6" />
      <path d="M19 11a7 7 0 0 1-1.2 3.9M5 11a7 7 0 0 0 10.6 6M12 18v3" />
      <path d="M3 3l18 18" />
    </Icon>
  )
}

export function DeafenedIcon() {
  return (
    <Icon>
      <path d="M3 14v-2a9 9 0 0 1 14.4-7.2M21 12v2" />
      <path d="M3 14h3v6H4a1 1 0 0 1-1-1zM21 14h-3v6h2a1 1 0 0 0 1-1z" />
      <path d="M3 3l18 18" />
    </Icon>
  )
}

export function CameraIcon() {
  return (
    <Icon>
      <rect x="2" y="6" width="14" height="12" rx="2" />
      <path d="M16 10l6-3v10l-6-3z" />
    </Icon>
  )
}

export function StreamIcon() {
  return (
    <Icon>
      <rect x="2" y="4" width="20" height="13" rx="2" />
      <path d="M8 21h8M12 17v4" />
    </Icon>
  )
}
