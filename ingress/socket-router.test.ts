import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, portOpen, waitFor } from '../scripts/stack/exec.ts';
import { renderSocketRouterConf } from './socket-router.conf.ts';

/**
 * The router's sticky rules with the real nginx: pods socket-gateway-N are stand-ins on
 * 127.0.0.1N (loopback takes every 127/8 address), the Service of all pods one on 127.0.0.12;
 * each answers with its name and what it received.
 */
const POOL = '127.0.0.12';
let nginx: ChildProcess;
let routerPort: number;
let dir: string;
const pods: http.Server[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'socket-router-'));
  const port = await freePort();
  for (const [name, host] of [['socket-gateway-0', '127.0.0.10'], ['socket-gateway-1', '127.0.0.11'], ['pool', POOL]] as const) {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pod: name, body, xff: req.headers['x-forwarded-for'] ?? null })));
    });
    await new Promise<void>((r) => server.listen(port, host, r));
    expect((server.address() as AddressInfo).port).toBe(port);
    pods.push(server);
  }
  routerPort = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, renderSocketRouterConf({ listen: routerPort, podPrefix: 'socket-gateway', podHost: (n) => `127.0.0.1${n}`, poolHost: POOL, port, runDir: dir }));
  nginx = spawn('nginx', ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor('socket router', async () => {
    if (nginx.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    return portOpen(routerPort);
  }, 10_000);
});

afterAll(async () => {
  nginx?.kill('SIGTERM');
  await Promise.all(pods.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

async function route(query: string, opts: { cookie?: string; body?: string } = {}): Promise<{ pod: string; body: string; xff: string | null }> {
  const res = await fetch(`http://127.0.0.1:${routerPort}/socket.io/?EIO=4&transport=polling${query}`, {
    method: opts.body === undefined ? 'GET' : 'POST',
    headers: { 'x-forwarded-for': '203.0.113.7', ...(opts.cookie ? { cookie: opts.cookie } : {}) },
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { pod: string; body: string; xff: string | null };
}

describe('the Kubernetes socket router (real nginx)', () => {
  it('sends a handshake (no cookie, no session id) to the Service of all pods', async () => {
    expect((await route('')).pod).toBe('pool');
  });

  it('routes a cookie-less client by its session id, which names the pod', async () => {
    expect((await route('&sid=socket-gateway-1.abc')).pod).toBe('socket-gateway-1');
    expect((await route('&sid=socket-gateway-0.xyz', { body: '42["message:send"]' }))).toMatchObject({ pod: 'socket-gateway-0', body: '42["message:send"]' });
  });

  it('prefers the chat_gw cookie to the session id, as the local ingress does', async () => {
    expect((await route('&sid=socket-gateway-1.abc', { cookie: 'chat_gw=socket-gateway-0' })).pod).toBe('socket-gateway-0');
    expect((await route('', { cookie: 'other=1; chat_gw=socket-gateway-1' })).pod).toBe('socket-gateway-1');
  });

  it('falls back to any pod when the named one is gone, body and client address included', async () => {
    // socket-gateway-7 would be 127.0.0.17, where nothing listens.
    expect(await route('&sid=socket-gateway-7.abc', { body: '2' })).toEqual({ pod: 'pool', body: '2', xff: '203.0.113.7' });
    expect((await route('', { cookie: 'chat_gw=socket-gateway-7' })).pod).toBe('pool');
  });

  it('ignores names that are not gateway pods, so a forged cookie or session id cannot point elsewhere', async () => {
    expect((await route('&sid=evil.example.com.abc', { cookie: 'chat_gw=10.0.0.1' })).pod).toBe('pool');
    expect((await route('&sid=socket-gateway-1.abc', { cookie: 'chat_gw=socket-gateway-1.evil.com' })).pod).toBe('socket-gateway-1');
  });
});
