import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Server, Socket } from 'socket.io';

/**
 * Memory an idle socket need not hold. The gateway keeps tens of thousands of mostly idle
 * connections, so every object that outlives the connect is paid once per socket.
 */

/**
 * engine.io keeps the HTTP request that opened a session for the session's lifetime: as
 * `conn.request`, and, for a WebSocket upgrade, through the stand-in response it builds for its
 * middlewares (`WebSocketResponse.req`, reachable from a "close" listener on the TCP socket).
 * That is the IncomingMessage with its stream state and raw header array (the ingress's proxy
 * headers included), about 0.8 KiB per socket. Socket.IO reads the request only while building
 * `socket.handshake`, which keeps what it needs (headers, url, query, address); nothing of ours
 * reads `socket.request`. Returns the function that lets go of a connected socket's request.
 */
export function releaseHandshakeRequests(io: Server): (socket: Socket) => void {
  // engine.io's middlewares are the public way to see the upgrade's stand-in response.
  const upgrades = new WeakMap<IncomingMessage, { req?: IncomingMessage }>();
  io.engine.use((req: IncomingMessage, res: unknown, next: () => void) => {
    // Long-polling requests come with a real ServerResponse, which Node finishes and drops itself.
    if (res && !(res instanceof ServerResponse) && (res as { req?: unknown }).req === req) upgrades.set(req, res as { req?: IncomingMessage });
    next();
  });
  return (socket) => {
    const conn = socket.conn as { request?: IncomingMessage };
    const req = conn.request;
    if (!req) return;
    const res = upgrades.get(req);
    if (res) res.req = undefined;
    upgrades.delete(req);
    conn.request = undefined;
  };
}

/**
 * One string per room name, shared by every local socket in the room. Each join would otherwise
 * keep its own copy (the adapter stores the names of a socket's rooms per socket), so a
 * conversation of twenty members held twenty equal strings. The copy shared is the adapter's own
 * key, learned from its room events, so a name is known exactly while the room has local members.
 */
export class RoomNames {
  private readonly names = new Map<string, string>();

  /** `shared` picks the rooms worth it (many local members), not e.g. a socket's own room. */
  constructor(io: Server, shared: (room: string) => boolean) {
    const adapter = io.of('/').adapter;
    adapter.on('create-room', (room: string) => {
      if (shared(room)) this.names.set(room, room);
    });
    adapter.on('delete-room', (room: string) => this.names.delete(room));
  }

  /** The room's existing name string if it has local members, else `name` itself. */
  get(name: string): string {
    return this.names.get(name) ?? name;
  }

  /** Names held; for tests. */
  get size(): number {
    return this.names.size;
  }
}

/**
 * `socket.onAny(fn)` for a listener every socket shares. onAny pushes onto a per-socket array
 * that V8 grows to 17 slots at the first push (~0.2 KiB per socket for one function); here
 * every socket points at the same one-element array. That array is Socket.IO's private
 * `_anyListeners` (read by Socket#onevent, 4.8.x): if a version stops reading it, the shared
 * array does not show in the public `listenersAny()` and the socket falls back to onAny.
 */
export function shareAnyListener<S extends Socket>(listener: (this: S, event: string, ...args: unknown[]) => void): (socket: S) => void {
  // Frozen: a later onAny on a socket would throw instead of adding to every socket's listeners.
  const shared: ReadonlyArray<typeof listener> = Object.freeze([listener]);
  return (socket) => {
    (socket as unknown as { _anyListeners?: ReadonlyArray<typeof listener> })._anyListeners = shared;
    if (socket.listenersAny()[0] !== listener) socket.onAny(listener as (...args: unknown[]) => void);
  };
}
