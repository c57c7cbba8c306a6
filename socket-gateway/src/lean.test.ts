import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Server, type Socket } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseHandshakeRequests, RoomNames, shareAnyListener } from './lean.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let server: Server | undefined;
const clients: ClientSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function start(setup: (io: Server) => void): Promise<{ io: Server; connect: (transports?: string[]) => Promise<ClientSocket> }> {
  const httpServer = http.createServer();
  const io = new Server(httpServer, { serveClient: false });
  server = io;
  setup(io);
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  return {
    io,
    connect: (transports = ['websocket']) =>
      new Promise((resolve, reject) => {
        const c = connectClient(url, { transports, forceNew: true, reconnection: false, auth: { token: 't' }, extraHeaders: { 'x-forwarded-for': '10.0.0.1' } });
        clients.push(c);
        c.once('connect', () => resolve(c));
        c.once('connect_error', reject);
      }),
  };
}

const collected = async (ref: WeakRef<object>) => {
  for (let i = 0; i < 5 && ref.deref(); i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return ref.deref() === undefined;
};

describe('releaseHandshakeRequests', () => {
  // Relies on engine.io keeping the request in conn.request and WebSocketResponse.req (6.6.x): if a
  // new version keeps it elsewhere, the request stays reachable and this fails.
  it.each([['websocket'], ['polling']])('lets the handshake request be collected after connect (%s), handshake intact', async (transport) => {
    let ref: WeakRef<IncomingMessage> | undefined;
    let socket: Socket | undefined;
    const { connect } = await start((io) => {
      const release = releaseHandshakeRequests(io);
      io.on('connection', (s) => {
        ref = new WeakRef(s.request);
        release(s);
        socket = s;
      });
    });
    const client = await connect([transport]);
    expect(ref!.deref()).toBeDefined();
    expect(await collected(ref!)).toBe(true);
    expect(socket!.handshake).toMatchObject({ auth: { token: 't' }, query: { EIO: '4', transport }, address: '127.0.0.1' });
    expect(socket!.handshake.headers['x-forwarded-for']).toBe('10.0.0.1');
    // Still a working connection both ways.
    socket!.on('ping-me', (ack: (v: string) => void) => ack('pong'));
    await expect(client.timeout(2000).emitWithAck('ping-me')).resolves.toBe('pong');
  });

  it('without the release the request stays reachable (the test can see a retained request)', async () => {
    let ref: WeakRef<IncomingMessage> | undefined;
    const { connect } = await start((io) => io.on('connection', (s) => (ref = new WeakRef(s.request))));
    await connect();
    expect(await collected(ref!)).toBe(false);
  });
});

describe('RoomNames', () => {
  it('gives later joiners the first joiner\'s string while the room has local members, and forgets it after', async () => {
    let names: RoomNames | undefined;
    const sockets: Socket[] = [];
    const { io, connect } = await start((io) => {
      names = new RoomNames(io, (r) => r.startsWith('c:'));
      io.on('connection', (s) => void sockets.push(s));
    });
    await connect();
    await connect();
    const [a, b] = sockets as [Socket, Socket];
    expect(names!.get('c:1')).toBe('c:1');
    expect(names!.size).toBe(0);
    await a.join([names!.get(`c:${1}`), 'u:a']);
    expect(names!.size).toBe(1);
    await b.join(names!.get(`c:${1}`));
    expect(io.of('/').adapter.rooms.get('c:1')).toEqual(new Set([a.id, b.id]));
    a.leave('c:1');
    expect(names!.size).toBe(1);
    b.leave('c:1');
    expect(names!.size).toBe(0);
  });
});

describe('shareAnyListener', () => {
  // Relies on Socket.IO reading its private _anyListeners when an event arrives (4.8.x). If that
  // changes, the helper falls back to onAny: events still arrive, but the array is no longer
  // shared and the identity check below fails, so the lost saving does not go unnoticed.
  it('delivers every event of every socket once, to the shared listener with the socket as this', async () => {
    const seen: Array<[string, string, unknown]> = [];
    const sockets: Socket[] = [];
    const { connect } = await start((io) => {
      const listen = shareAnyListener(function (this: Socket, event: string, payload: unknown, ack?: unknown) {
        seen.push([this.id!, event, payload]);
        if (typeof ack === 'function') (ack as (v: string) => void)('ok');
      });
      io.on('connection', (s) => {
        listen(s);
        sockets.push(s);
      });
    });
    const a = await connect();
    const b = await connect();
    expect(sockets[0]!.listenersAny()).toBe(sockets[1]!.listenersAny());
    expect(sockets[0]!.listenersAny()).toHaveLength(1);
    await expect(a.timeout(2000).emitWithAck('one', { n: 1 })).resolves.toBe('ok');
    await expect(b.timeout(2000).emitWithAck('two', { n: 2 })).resolves.toBe('ok');
    expect(seen).toEqual([
      [sockets[0]!.id, 'one', { n: 1 }],
      [sockets[1]!.id, 'two', { n: 2 }],
    ]);
  });
});
