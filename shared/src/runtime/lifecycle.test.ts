import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { answerHealth, parseWatchdogInterval, shutdownTiming } from './lifecycle.ts';

let isReady = true;
const server = http.createServer((req, res) => {
  if (!answerHealth(req, res, async () => { if (!isReady) throw new Error('down'); })) res.writeHead(418).end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('answerHealth', () => {
  it('answers liveness whatever the dependencies, and readiness only while they are reachable', async () => {
    isReady = true;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/readyz?probe=1`)).status).toBe(200);
    isReady = false;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
  });

  it('leaves other paths to the caller', async () => {
    expect((await fetch(`${base}/socket.io/`)).status).toBe(418);
  });
});

describe('shutdownTiming', () => {
  it('reads of-watchdog\'s healthcheck_interval as it does (seconds or a Go duration) and serves one second longer', () => {
    expect([parseWatchdogInterval('5'), parseWatchdogInterval('5s'), parseWatchdogInterval('1500ms'), parseWatchdogInterval('1m'), parseWatchdogInterval('x'), parseWatchdogInterval(undefined)]).toEqual([5000, 5000, 1500, 60_000, undefined, undefined]);
    expect(shutdownTiming({ healthcheck_interval: '5s' })).toEqual({ delayMs: 6000, timeoutMs: 30_000 });
    expect(shutdownTiming({ healthcheck_interval: '5s', SHUTDOWN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '1000' })).toEqual({ delayMs: 0, timeoutMs: 1000 });
    // Outside a watchdog (the local stack) nothing routes by readiness, so there is nothing to wait for.
    expect(shutdownTiming({})).toEqual({ delayMs: 0, timeoutMs: 30_000 });
    expect(() => shutdownTiming({ SHUTDOWN_DELAY_MS: 'soon' })).toThrow(/SHUTDOWN_DELAY_MS/);
  });
});
