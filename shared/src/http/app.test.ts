import type { AddressInfo } from 'node:net';
import { getRequestListener, serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { createApp } from './app.ts';

// The Node adapter's own Response (what serve() installs): the headers middleware must leave a
// handler's string body as it is, which only shows on this class, not on the platform one.
getRequestListener(() => new Response());

const log = createLogger('test', 'error');
const make = () => {
  const app = createApp({ log, ready: async () => undefined, bodyLimitBytes: 64 });
  app.get('/json', (c) => c.json({ ok: true }));
  app.get('/cached', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({ ok: true });
  });
  app.get('/raw', () => new Response('raw', { headers: { 'cache-control': 'private, max-age=60' } }));
  app.get('/raw-plain', () => new Response('raw'));
  app.post('/echo', async (c) => c.text(await c.req.text()));
  app.put('/echo', async (c) => c.text(await c.req.text()));
  app.get('/fail', () => {
    throw new Error('boom');
  });
  return app;
};

describe('createApp', () => {
  it('puts nosniff and no-store on every response, keeping a Cache-Control the handler chose', async () => {
    const app = make();
    for (const [path, cache] of [
      ['/json', 'no-store'],
      ['/cached', 'public, max-age=300'],
      ['/raw', 'private, max-age=60'],
      ['/raw-plain', 'no-store'],
      ['/missing', 'no-store'],
      ['/healthz', 'no-store'],
    ] as const) {
      const res = await app.request(path);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('cache-control'), path).toBe(cache);
    }
    const missing = await app.request('/missing');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'Route not found.' } });
  });

  it('keeps a JSON response on the Node adapter fast path (its body still a string, no stream)', async () => {
    const res = await make().request('/json');
    // The adapter's lightweight Response keeps [status, body, headers] under a symbol until
    // something needs a real Response; rebuilding it (what c.header() after the handler did)
    // drops that and streams the body, at a large cost per request.
    const cache = Object.getOwnPropertySymbols(res).find((s) => s.description === 'cache');
    expect(cache).toBeDefined();
    expect((res as unknown as Record<symbol, unknown[]>)[cache!]![1]).toBe('{"ok":true}');
  });

  it('refuses a body over the limit with the contract error, and passes one within it', async () => {
    const app = make();
    const big = await app.request('/echo', { method: 'POST', body: 'x'.repeat(65), headers: { 'content-type': 'text/plain' } });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: { code: 'payload_too_large', message: 'Request body is too large.' } });
    const ok = await app.request('/echo', { method: 'POST', body: 'x'.repeat(64), headers: { 'content-type': 'text/plain' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('x'.repeat(64));
  });

  it('on the Node adapter, puts the same headers on every response and keeps the contract error shape', async () => {
    const app = make();
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const [path, cache, status] of [
        ['/json', 'no-store', 200],
        ['/cached', 'public, max-age=300', 200],
        ['/raw', 'private, max-age=60', 200],
        ['/raw-plain', 'no-store', 200],
        ['/missing', 'no-store', 404],
        ['/fail', 'no-store', 500],
        ['/healthz', 'no-store', 200],
      ] as const) {
        const res = await fetch(base + path);
        expect(res.status, path).toBe(status);
        expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect(res.headers.get('cache-control'), path).toBe(cache);
        await res.arrayBuffer();
      }
      const json = await fetch(base + '/json');
      expect(json.headers.get('content-type')).toBe('application/json');
      expect(await json.json()).toEqual({ ok: true });
      const failed = await fetch(base + '/fail');
      expect(await failed.json()).toEqual({ error: { code: 'internal', message: expect.any(String) } });
      const big = await fetch(base + '/echo', { method: 'PUT', body: 'x'.repeat(65), headers: { 'content-type': 'text/plain' } });
      expect(big.status).toBe(413);
      expect(big.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await big.json()).toEqual({ error: { code: 'payload_too_large', message: 'Request body is too large.' } });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('limits the body of every method that carries one', async () => {
    const app = make();
    for (const method of ['POST', 'PUT']) {
      const res = await app.request('/echo', { method, body: 'x'.repeat(65), headers: { 'content-type': 'text/plain' } });
      expect(res.status, method).toBe(413);
    }
  });
});
