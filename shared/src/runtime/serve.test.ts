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

describe('serveFunction on SIGTERM', () => {
  it('keeps answering for the drain delay, finishes what is in flight, then stops accepting and exits 0', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./drain.fixture.ts', import.meta.url))], {
      env: { ...process.env, PORT: String(port), healthcheck_interval: '1', SHUTDOWN_DELAY_MS: undefined, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 200) throw new Error('fixture did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    // Steady load from before the signal until the process is gone: nothing may fail with a 5xx.
    const statuses: number[] = [];
    let refusedAt = 0;
    const signalledAt = Date.now() + 250;
    const load = (async () => {
      while (!refusedAt) {
        await fetch(`${base}/slow?ms=20`).then((r) => statuses.push(r.status), () => (refusedAt = Date.now()));
      }
    })();
    const inFlight = new Promise((r) => setTimeout(r, 200)).then(() => {
      const slow = fetch(`${base}/slow?ms=2500`).then((r) => r.status);
      // Signalled while that request is being served: it outlasts the 2 s drain delay.
      setTimeout(() => child.kill('SIGTERM'), 50);
      return slow;
    });
    const ready = await new Promise((r) => setTimeout(r, 400)).then(() => fetch(`${base}/readyz`).then((r) => r.status));
    expect(await inFlight).toBe(200);
    await load;
    expect(await exited).toBe(0);
    expect(ready).toBe(503);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.length).toBeGreaterThan(10);
    // healthcheck_interval 1 s: served for 2 s after the signal (1 + 1 s), then refused.
    expect(refusedAt - signalledAt).toBeGreaterThanOrEqual(1900);
    expect(out).toContain('stores closed');
  }, 20_000);
});
