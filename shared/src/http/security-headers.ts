/**
 * The security baseline on every function response: never sniffed, never cached unless the
 * route says otherwise. Its own module without imports, so the runtime can answer with it
 * before the app (Hono, zod) has loaded.
 */
export const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' } as const;
