import type { Server } from 'node:http';
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { env, loadConfig } from '../config.ts';
import type { Logger } from '../log.ts';

/**
 * Process plumbing shared by the long-lived services (functions, socket gateway, connector):
 * one graceful stop on SIGTERM/SIGINT, and the contract's /healthz and /readyz on plain
 * node:http servers (functions get theirs from the Hono app factory).
 */
let stopping = false;

/** True from the first SIGTERM/SIGINT on: readiness answers 503 at once, while work goes on. */
export const shuttingDown = (): boolean => stopping;

/**
 * of-watchdog's `healthcheck_interval` (an integer of seconds, or a Go duration such as "5s",
 * "1500ms", "1m"): how long it keeps routing requests to the function after SIGTERM. It hands
 * its own environment to the function process, so the runtime reads the same value.
 */
export function parseWatchdogInterval(v: string | undefined): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm']);
}

export const shutdownConfigShape = {
  /**
   * How long a stopping process keeps serving as usual before it stops accepting: the time its
   * router (of-watchdog, a Kubernetes Service, the ingress) needs to stop sending it new work.
   * Unset: one second more than the watchdog's healthcheck_interval behind of-watchdog, else 0.
   */
  SHUTDOWN_DELAY_MS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(600_000).optional()),
  /** After the delay, the longest wait for in-flight work before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: env.int(30_000, 0, 600_000),
  healthcheck_interval: z.string().optional(),
};

export interface ShutdownTiming {
  delayMs: number;
  timeoutMs: number;
}

export function shutdownTiming(e: Record<string, string | undefined> = process.env): ShutdownTiming {
  const c = loadConfig(shutdownConfigShape, e);
  const watchdog = parseWatchdogInterval(c.healthcheck_interval);
  const delayMs = c.SHUTDOWN_DELAY_MS !== undefined ? c.SHUTDOWN_DELAY_MS : watchdog !== undefined ? watchdog + 1000 : 0;
  return { delayMs, timeoutMs: c.SHUTDOWN_TIMEOUT_MS };
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * On SIGTERM/SIGINT: readiness turns false at once; the process keeps serving for `delayMs`
 * (its router is still sending it work); then `stop` stops accepting, finishes what is in flight
 * and closes the stores. The process exits 0 when `stop` is done, or after `timeoutMs` more.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>, timing: ShutdownTiming = shutdownTiming()): void {
  const run = async (signal: string) => {
    // A second Ctrl-C means "now"; a repeated SIGTERM does not cut the drain short.
    if (stopping && signal === 'SIGINT') process.exit(130);
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal, drainDelayMs: timing.delayMs });
    if (timing.delayMs) await pause(timing.delayMs);
    const deadline = setTimeout(() => {
      log.warn('shutdown timed out; exiting with work in flight', { timeoutMs: timing.timeoutMs });
      process.exit(0);
    }, timing.timeoutMs);
    deadline.unref();
    await stop().catch((e) => log.warn('shutdown step failed', { err: e }));
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void run('SIGTERM'));
  process.on('SIGINT', () => void run('SIGINT'));
}

/**
 * Stops accepting connections and resolves once every connection has ended. It never closes a
 * keep-alive connection under its client: http.Server's close() closes idle ones at once, and a
 * proxy (nginx, of-watchdog) that has just picked one for its next request then sees it close
 * mid-request, which for a POST it cannot resend is a 502 (seen in the rolling-restart chaos
 * test). Instead every answer from here on says `Connection: close`, so each connection ends
 * after its current request, and an idle one is closed by its client's idle timeout (nginx's
 * 4 s) or Node's keep-alive timeout (5 s), whichever comes first.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (!res.headersSent) res.setHeader('connection', 'close');
    });
    net.Server.prototype.close.call(server, () => resolve());
  });
}

const UNAVAILABLE = JSON.stringify({ error: { code: 'unavailable', message: 'A dependency is unreachable.' } });
const STOPPING = JSON.stringify({ error: { code: 'unavailable', message: 'Shutting down.' } });

/**
 * Answers GET /healthz (the process is alive) and GET /readyz (`ready` resolves: its
 * dependencies are reachable, and the process is not shutting down). Returns false for any
 * other path, for the caller to handle.
 */
export function answerHealth(req: IncomingMessage, res: ServerResponse, ready: () => Promise<void>): boolean {
  const path = (req.url ?? '').split('?')[0];
  const json = (status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  if (path === '/healthz') {
    json(200, '{"status":"ok"}');
    return true;
  }
  if (path === '/readyz') {
    if (stopping) json(503, STOPPING);
    else
      ready().then(
        () => json(200, '{"status":"ready"}'),
        () => json(503, UNAVAILABLE),
      );
    return true;
  }
  return false;
}
