import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';
import { bearerToken, type TokenVerifier } from '../auth/verifier.ts';
import { AppError, errors, toAppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { LIMITS } from '../models/limits.ts';
import { describeIssue } from '../models/validation.ts';
import { SECURITY_HEADERS } from './security-headers.ts';
import { shuttingDown } from '../runtime/lifecycle.ts';

export type AppEnv = { Variables: { userId: string } };

/** What the Node adapter passes as env: the request as Node parsed it and its response. */
interface NodeEnv {
  incoming?: { headers?: Record<string, string | string[] | undefined>; socket?: { remoteAddress?: string } };
  outgoing?: { setHeader(name: string, value: string): unknown };
}

const BODY_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Adds the security baseline to a finished Response, keeping what it already has (as Node's merge does). */
function withSecurityHeaders(res: Response): Response {
  const missing = Object.entries(SECURITY_HEADERS).filter(([name]) => !res.headers.has(name));
  if (missing.length === 0) return res;
  try {
    for (const [name, value] of missing) res.headers.set(name, value);
  } catch {
    // Response.error() and Response.redirect() have immutable headers: copy.
    res = new Response(res.body, res);
    for (const [name, value] of missing) res.headers.set(name, value);
  }
  return res;
}

export interface CreateAppOptions {
  log: Logger;
  /** Throws when a dependency is unreachable; drives GET /readyz. */
  ready: () => Promise<void>;
  bodyLimitBytes?: number;
}

export function renderError(c: Context, err: AppError) {
  if (err.retryAfter !== undefined) c.header('Retry-After', String(err.retryAfter));
  return c.json(err.toBody(), err.status as 400);
}

/** A Hono app with the contract's error shape, body limit, health routes and a security baseline. */
export function createApp(opts: CreateAppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError((err, c) => {
    if (err instanceof AppError) return renderError(c, err);
    if (err instanceof HTTPException && err.status < 500) return renderError(c, errors.invalid(err.message || 'Bad request.'));
    opts.log.error('unhandled error', { method: c.req.method, path: c.req.path, err });
    return renderError(c, toAppError(err));
  });
  app.notFound((c) => renderError(c, errors.notFound('Route')));
  // The security baseline rides on every response, the adapter's own errors included. On the
  // Node adapter it goes on the ServerResponse before the app runs: Node merges it with the
  // headers the response brings (a handler's own Cache-Control wins), and the handler's response
  // keeps a plain header object. Setting it through c.header() gave every response a fetch
  // Headers object to build, fill, sort and copy back out, and a middleware of its own.
  const fetch = app.fetch;
  app.fetch = (req, env, ctx) => {
    const outgoing = (env as NodeEnv | undefined)?.outgoing;
    if (outgoing) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) outgoing.setHeader(name, value);
      return fetch(req, env, ctx);
    }
    // Anywhere else (app.request() in tests): on the finished Response.
    const res = fetch(req, env, ctx);
    return res instanceof Promise ? res.then(withSecurityHeaders) : withSecurityHeaders(res);
  };
  const limitBody = bodyLimit({
    maxSize: opts.bodyLimitBytes ?? LIMITS.requestBodyBytes,
    onError: (c) => renderError(c, errors.tooLarge('Request body is too large.')),
  });
  // Only where a body is read: the Node adapter never reads a GET or HEAD body, and asking for
  // one (what bodyLimit does first) builds a full fetch Request per call.
  app.on(BODY_METHODS, '*', limitBody);
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    // From SIGTERM on the function still serves, but tells its router to stop sending work.
    if (shuttingDown()) return renderError(c, errors.unavailable('Shutting down.'));
    try {
      await opts.ready();
      return c.json({ status: 'ready' });
    } catch (e) {
      opts.log.warn('not ready', { err: e });
      return renderError(c, errors.unavailable('A dependency is unreachable.'));
    }
  });
  return app;
}

/** Parses a JSON body against a schema: 415 if it is not JSON, 400 if malformed or invalid. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, opts: { optional?: boolean } = {}): Promise<z.output<S>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.length > 0 || !opts.optional) {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) throw new AppError('unsupported_media_type', 'Send JSON (content-type: application/json).');
    try {
      value = JSON.parse(text);
    } catch {
      throw errors.invalid('Malformed JSON body.');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw errors.invalid(describeIssue(parsed.error));
  return parsed.data;
}

/** Parses the query string against a schema; repeated keys are invalid rather than arrays. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const all = c.req.queries();
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) {
    if (v.length !== 1) throw errors.invalid(`${k}: given more than once`);
    flat[k] = v[0]!;
  }
  const parsed = schema.safeParse(flat);
  if (!parsed.success) throw errors.invalid(describeIssue(parsed.error));
  return parsed.data;
}

/** Requires a valid access token and exposes its user as c.var.userId. */
export function requireUser(verifier: TokenVerifier): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const claims = await verifier.verify(requestBearerToken(c));
    c.set('userId', claims.userId);
    await next();
  };
}

/** The request's `Authorization: Bearer` token, or null. */
export function requestBearerToken(c: Context): string | null {
  return bearerToken(nodeHeader(c, 'authorization') ?? c.req.header('authorization'));
}

/**
 * A request header as Node parsed it, when the Node adapter serves the request: c.req.header()
 * makes the adapter build a fetch Headers object from every raw header first, a visible share
 * of a cheap authenticated GET in profiles. Undefined elsewhere (app.request() in tests).
 */
function nodeHeader(c: Context, name: string): string | undefined {
  const value = (c.env as NodeEnv | undefined)?.incoming?.headers?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** The caller's address as the ingress saw it (nginx sets X-Real-IP and overwrites any client value). */
export function clientAddress(c: Context): string {
  const real = c.req.header('x-real-ip');
  if (real) return real;
  const incoming = (c.env as NodeEnv | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'unknown';
}
