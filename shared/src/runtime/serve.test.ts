import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { listenFunction, type FunctionHandler, type FunctionServer } from './serve.ts';

const log = createLogger('test', 'error');

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

let running: FunctionServer | undefined;
afterEach(() => running?.server.close());

async function start(create: () => Promise<FunctionHandler>) {
  running = listenFunction(create, { port: 0, hostname: '127.0.0.1', log });
  if (!running.server.listening) await new Promise((r) => running!.server.once('listening', r));
  return `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
}

describe('listenFunction', () => {
  it('answers /healthz while the handler starts, and serves other requests once it is ready', async () => {
    const created = deferred<FunctionHandler>();
    const base = await start(() => created.promise);
    let answered = false;
    const early = fetch(`${base}/hello`).then((r) => ((answered = true), r));

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    // /hello went out first and is still waiting for the handler.
    expect(answered).toBe(false);

    const app = new Hono();
    app.get('/hello', (c) => c.json({ hello: 'world' }));
    created.resolve({ app, close: async () => undefined });
    const res = await early;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: 'world' });
    expect(await (await fetch(`${base}/hello`)).json()).toEqual({ hello: 'world' });
  });

  it('answers waiting requests with the contract 503 when the handler fails to start', async () => {
    const created = deferred<FunctionHandler>();
    const base = await start(() => created.promise);
    const early = fetch(`${base}/readyz`);
    await fetch(`${base}/healthz`);
    created.reject(new Error('mongo unreachable'));
    const res = await early;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: 'unavailable', message: 'The function failed to start.' } });
    await expect(running!.handler).rejects.toThrow('mongo unreachable');
  });
});
