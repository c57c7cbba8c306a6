import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BATCH_HEADER, CONNECTOR_SECRET_HEADER, TOPIC_HEADER } from '@chat/shared/events/bus';
import { httpInvoker } from './invoker.ts';

type Seen = { url: string; headers: http.IncomingHttpHeaders; body: string };
const servers: http.Server[] = [];

/** A stand-in gateway on a free port; `answer` decides each response. */
async function gateway(answer: (seen: Seen, res: http.ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const s = { url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      answer(s, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r).closeAllConnections());
});

describe('httpInvoker', () => {
  it('posts the event to /function/<fn> with the secret and topic or batch headers', async () => {
    const gw = await gateway((_s, res) => res.writeHead(200).end('{"applied":1}'));
    const invoke = httpInvoker({ gatewayUrl: gw.url, secret: 's3cret', timeoutMs: 5000 });
    expect(await invoke('db', { body: '{"a":1}', topic: 'message.created', batch: false })).toEqual({ status: 200, detail: '' });
    expect(await invoke('notification', { body: '[{"topic":"t","event":{}}]', batch: true })).toEqual({ status: 200, detail: '' });
    expect(gw.seen.map((s) => s.url)).toEqual(['/function/db', '/function/notification']);
    expect(gw.seen[0]!.headers[CONNECTOR_SECRET_HEADER.toLowerCase()]).toBe('s3cret');
    expect(gw.seen[0]!.headers[TOPIC_HEADER.toLowerCase()]).toBe('message.created');
    expect(gw.seen[0]!.headers[BATCH_HEADER.toLowerCase()]).toBeUndefined();
    expect(gw.seen[1]!.headers[BATCH_HEADER.toLowerCase()]).toBe('1');
    expect(gw.seen.map((s) => s.body)).toEqual(['{"a":1}', '[{"topic":"t","event":{}}]']);
  });

  it('reports a failure with its status and a short text reason, never the request', async () => {
    const gw = await gateway((_s, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad   Gateway</h1></body></html>'));
    const invoke = httpInvoker({ gatewayUrl: gw.url, secret: 's3cret', timeoutMs: 5000 });
    expect(await invoke('db', { body: '{"secret-ish":1}', topic: 't', batch: false })).toEqual({ status: 502, detail: '502 Bad Gateway' });
  });

  it('answers status 0 when nothing answers in time or nothing listens', async () => {
    const silent = await gateway(() => undefined);
    const slow = await httpInvoker({ gatewayUrl: silent.url, secret: 's', timeoutMs: 100 })('db', { body: '{}', topic: 't', batch: false });
    expect(slow.status).toBe(0);
    expect(slow.detail).toMatch(/TimeoutError/);

    const closed = await gateway(() => undefined);
    const url = closed.url;
    await new Promise((r) => closed.server.close(r));
    const refused = await httpInvoker({ gatewayUrl: url, secret: 's', timeoutMs: 1000 })('db', { body: '{}', topic: 't', batch: false });
    expect(refused).toMatchObject({ status: 0 });
    expect(refused.detail).toMatch(/ECONNREFUSED/);
  });

  it('sends again on a fresh connection when the gateway dropped the idle one it reused', async () => {
    const gw = await gateway((_s, res) => res.writeHead(200).end('{}'));
    const invoke = httpInvoker({ gatewayUrl: gw.url, secret: 's', timeoutMs: 5000 });
    const firstSocket = new Promise<import('node:net').Socket>((r) => gw.server.once('connection', r));
    expect((await invoke('db', { body: '{"n":1}', topic: 't', batch: false })).status).toBe(200);
    // The gateway resets the kept-alive connection while it is idle in the invoker's pool.
    const socket = await firstSocket;
    const gone = new Promise((r) => socket.once('close', r));
    socket.resetAndDestroy();
    await gone;
    expect(await invoke('db', { body: '{"n":2}', topic: 't', batch: false })).toEqual({ status: 200, detail: '' });
    expect(gw.seen.map((s) => s.body)).toEqual(['{"n":1}', '{"n":2}']);
  });
});
