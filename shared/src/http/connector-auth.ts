import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { CONNECTOR_SECRET_HEADER } from '../events/bus.ts';
import { errors } from '../errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Constant-time comparison of the connector's shared secret. Both sides are hashed first so the
 * comparison takes the same time whatever the presented value's length.
 */
export function connectorSecretMatches(expected: string, presented: string | undefined | null): boolean {
  if (!presented || !expected) return false;
  return timingSafeEqual(digest(expected), digest(presented));
}

/** Guards a function's event entry point: only the connector (holding the secret) may call it. */
export function requireConnectorSecret(secret: string): MiddlewareHandler {
  return async (c, next) => {
    if (!connectorSecretMatches(secret, c.req.header(CONNECTOR_SECRET_HEADER))) throw errors.unauthorized('Event calls need the connector secret.');
    await next();
  };
}
