/**
 * The answer to a sign-out form post (`/auth/logout`, `/auth/logout-everywhere`): a cross-site
 * post is refused (403) so that another site cannot sign people out; otherwise `end` ends the
 * session(s) named by the cookie and returns the Set-Cookie that clears it, and the browser goes
 * to the signed-out page.
 */
export async function signOutResponse(
  request: Request,
  publicUrl: string,
  end: (cookieHeader: string | null) => Promise<string>,
  location: string,
): Promise<Response> {
  const origin = request.headers.get('origin')
  if (origin && origin !== new URL(publicUrl).origin && origin !== new URL(request.url).origin) {
    return new Response('Forbidden', { status: 403 })
  }
  const clear = await end(request.headers.get('cookie'))
  return new Response(null, {
    status: 303,
    headers: { location, 'set-cookie': clear, 'cache-control': 'no-store' },
  })
}
