/** "Sign in with Discord": a plain GET form, so it works before hydration and is a real button. */
export function SignInButton({ returnTo = '/' }: { returnTo?: string }) {
  return (
    <form method="get" action="/auth/login" className="inline-form">
      <input type="hidden" name="returnTo" value={returnTo} />
      <button type="submit" className="button primary">
        Sign in with Discord
      </button>
    </form>
  )
}

/** "Sign out": POST so a link or prefetch can never sign anyone out. */
export function SignOutButton() {
  return (
    <form method="post" action="/auth/logout" className="inline-form">
      <button type="submit" className="button subtle">
        Sign out
      </button>
    </form>
  )
}

/**
 * "End all sessions" (sign out everywhere): ends every session of the user, in every browser (their
 * live pages go to sign in). POST, like "Sign out". Its name does not contain "Sign out", so the
 * "Sign out" button stays the only control that a name search for "Sign out" finds.
 */
export function SignOutEverywhereButton() {
  return (
    <form method="post" action="/auth/logout-everywhere" className="inline-form">
      <button type="submit" className="button subtle">
        End all sessions
      </button>
    </form>
  )
}
