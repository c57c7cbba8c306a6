import type { Server } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { AppError } from '../errors.ts';
import { SECURITY_HEADERS } from '../http/security-headers.ts';
import { createLogger, type Logger } from '../log.ts';
import { ConfigError } from '../secrets.ts';
import { closeServer, onShutdown, shutdownTiming, type ShutdownTiming } from './lifecycle.ts';

/** What a function's handler.ts exports: it wires config, dependencies and routes, once. */
export interface FunctionHandler {
  app: Hono<any>;
  close(): Promise<void>;
}

export type CreateHandler = () => Promise<FunctionHandler>;

/** The headers the app factory puts on every response, for what the runtime answers itself. */
// A copy per response: the Node adapter writes content-length into the object it is given.
const headers = () => ({ 'content-type': 'application/json', ...SECURITY_HEADERS });
const UNAVAILABLE = JSON.stringify(new AppError('unavailable', 'The function failed to start.').toBody());

export interface FunctionServer {
  server: ServerType;
  /** Settles with `create`: once it resolves, the handler's app serves every request. */
  handler: Promise<FunctionHandler>;
}

/**
 * Listens at once, while `create` is still running (the template also loads the function's code
 * inside it). GET /healthz answers straight away: the process is alive. Every other request,
 * /readyz included, waits for the handler and is then served by it, so nothing is answered by
 * a half-started function; if `create` fails, waiting requests get the contract's 503.
 */
export function listenFunction(create: CreateHandler, opts: { port: number; hostname: string; log: Logger }): FunctionServer {
  let ready: FunctionHandler | undefined;
  const handler = create().then((h) => (ready = h));
  handler.catch(() => undefined); // the caller handles the failure; this only keeps it from being "unhandled"
  const starting = async (req: Request, env: unknown): Promise<Response> => {
    if (new URL(req.url).pathname === '/healthz') return new Response('{"status":"ok"}', { status: 200, headers: headers() });
    let h: FunctionHandler;
    try {
      h = await handler;
    } catch {
      return new Response(UNAVAILABLE, { status: 503, headers: headers() });
    }
    return h.app.fetch(req, env);
  };
  const server = serve({ fetch: (req, env) => (ready ? ready.app.fetch(req, env) : starting(req, env)), port: opts.port, hostname: opts.hostname }, (info) =>
    opts.log.info('listening', { port: info.port }),
  );
  return { server, handler };
}

/**
 * The runtime half of the OpenFaaS template: of-watchdog (HTTP mode) proxies to this server on
 * PORT (default 3000, the template's upstream_url). Locally the stack runs the same file. A
 * failed start exits 78 for a configuration error, 1 otherwise.
 */
export async function serveFunction(name: string, create: CreateHandler): Promise<void> {
  const log = createLogger(name);
  const started = performance.now();
  let timing: ShutdownTiming;
  try {
    timing = shutdownTiming();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${name}: ${e.message}\n`);
    process.exit(78);
  }
  const { server, handler } = listenFunction(create, { port: Number(process.env.PORT ?? 3000), hostname: process.env.HOST ?? '127.0.0.1', log });
  let current: FunctionHandler | undefined;
  const exit = (code: number) => {
    server.close(() => process.exit(code));
    // The 503s to waiting requests are out; a keep-alive client must not keep the process.
    setTimeout(() => process.exit(code), 2000).unref();
  };
  server.once('error', (err) => {
    // A configuration error, if there is one, says more than the port clash it leads to.
    void handler.then(() => {
      log.error('failed to start', { err });
      exit(1);
    }, () => undefined);
  });
  // Behind of-watchdog the delay covers its healthcheck_interval: it forwards SIGTERM at once
  // but keeps routing requests here until then, and then waits for those in flight. Only after
  // that does this server stop accepting; the stores close once the last answer is out.
  onShutdown(log, async () => {
    await closeServer(server as Server);
    // Still starting: nothing is in flight that a graceful close would finish.
    await current?.close();
  }, timing);
  try {
    current = await handler;
    log.info('ready', { ms: Math.round(performance.now() - started) });
  } catch (e) {
    if (e instanceof ConfigError) process.stderr.write(`${name}: ${e.message}\n`);
    else log.error('failed to start', { err: e });
    exit(e instanceof ConfigError ? 78 : 1);
  }
}
