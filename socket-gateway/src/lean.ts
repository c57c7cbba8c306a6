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
