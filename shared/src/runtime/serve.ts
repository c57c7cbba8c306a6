import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { ConfigError } from '../config.ts';
import { createLogger } from '../log.ts';
import { onShutdown } from './lifecycle.ts';

/** What a function's handler.ts exports: it wires config, dependencies and routes, once. */
export interface FunctionHandler {
  app: Hono<any>;
  close(): Promise<void>;
}

export type CreateHandler = () => Promise<FunctionHandler>;

/**
 * The runtime half of the OpenFaaS template: of-watchdog (HTTP mode) proxies to this server on
 * PORT (default 3000, the template's upstream_url). Locally the stack runs the same file.
 */
export async function serveFunction(name: string, create: CreateHandler): Promise<void> {
  const log = createLogger(name);
  let handler: FunctionHandler;
  try {
    handler = await create();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${name}: ${e.message}\n`);
      process.exit(78);
    }
    log.error('failed to start', { err: e });
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  const server = serve({ fetch: handler.app.fetch, port, hostname: host }, (info) => log.info('listening', { port: info.port }));
  onShutdown(log, async () => {
    server.close();
    await handler.close();
  });
}
