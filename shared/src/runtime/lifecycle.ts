import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';

/**
 * Process plumbing shared by the long-lived services (functions, socket gateway, connector):
 * one graceful stop on SIGTERM/SIGINT, and the contract's /healthz and /readyz on plain
 * node:http servers (functions get theirs from the Hono app factory).
 */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const run = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    await stop().catch((e) => log.warn('shutdown step failed', { err: e }));
    process.exit(0);
  };
  process.once('SIGTERM', () => void run('SIGTERM'));
  process.once('SIGINT', () => void run('SIGINT'));
}

const UNAVAILABLE = JSON.stringify({ error: { code: 'unavailable', message: 'A dependency is unreachable.' } });

/**
 * Answers GET /healthz (the process is alive) and GET /readyz (`ready` resolves: its
 * dependencies are reachable). Returns false for any other path, for the caller to handle.
 */
export function answerHealth(req: IncomingMessage, res: ServerResponse, ready: () => Promise<void>): boolean {
  const path = (req.url ?? '').split('?')[0];
  const json = (status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  if (path === '/healthz') {
    json(200, '{"status":"ok"}');
    return true;
  }
  if (path === '/readyz') {
    ready().then(
      () => json(200, '{"status":"ready"}'),
      () => json(503, UNAVAILABLE),
    );
    return true;
  }
  return false;
}
