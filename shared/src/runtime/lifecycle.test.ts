import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { answerHealth } from './lifecycle.ts';

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
