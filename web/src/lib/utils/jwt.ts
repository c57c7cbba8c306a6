/**
 * The `sub` (user id) of an access token, read without verifying it: the app only uses it to
 * know whose messages are its own before `/me` answers, so a cold load can render at once. The
 * servers verify every token they are sent; nothing here grants anything.
 */
export function tokenSubject(token: string): string | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub ? sub : null;
  } catch {
    return null;
  }
}
