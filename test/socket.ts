import { io, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '@chat/shared/events/socket';
import { stack } from './stack.ts';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Connects to one gateway instance directly (index 0/1) or, by default, through the ingress. */
export function connect(
  token: string | undefined,
  opts: { instance?: number; transports?: string[]; headers?: Record<string, string>; reconnection?: boolean; withCredentials?: boolean } = {},
): ClientSocket {
  const s = stack();
  const url = opts.instance === undefined ? s.baseUrl : `http://127.0.0.1:${s.ports.gateways[opts.instance]}`;
  return io(url, {
    path: '/socket.io/',
    auth: token ? { token } : {},
    transports: opts.transports ?? ['websocket'],
    reconnection: opts.reconnection ?? false,
    forceNew: true,
    withCredentials: opts.withCredentials ?? true,
    ...(opts.headers ? { extraHeaders: opts.headers } : {}),
  }) as ClientSocket;
}

export function connected(socket: ClientSocket): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve(socket);
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

export async function connectAs(token: string, opts: Parameters<typeof connect>[1] = {}): Promise<ClientSocket> {
  return connected(connect(token, opts));
}

/** Emits and resolves with the acknowledgement. */
export function request<E extends keyof ClientToServerEvents>(
  socket: ClientSocket,
  event: E,
  payload: Parameters<ClientToServerEvents[E]>[0],
  timeoutMs = 10_000,
): Promise<Ack<any>> {
  return (socket.timeout(timeoutMs) as any).emitWithAck(event, payload);
}

/** Resolves with the next `event` whose payload matches `where`. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
  where: (payload: Parameters<ServerToClientEvents[E]>[0]) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler as never);
      reject(new Error(`timed out waiting for ${String(event)}`));
    }, timeoutMs);
    const handler = (payload: any) => {
      if (!where(payload)) return;
      clearTimeout(timer);
      socket.off(event, handler as never);
      resolve(payload);
    };
    socket.on(event, handler as never);
  });
}

/** Records every `event` a socket receives, for "exactly these, nothing more" assertions. */
export function record<E extends keyof ServerToClientEvents>(socket: ClientSocket, event: E): Array<Parameters<ServerToClientEvents[E]>[0]> {
  const seen: Array<Parameters<ServerToClientEvents[E]>[0]> = [];
  socket.on(event, ((p: any) => seen.push(p)) as never);
  return seen;
}

/** Sockets a test file opens, to close after each test: `open` connects one and keeps it. */
export function socketPool() {
  const sockets: ClientSocket[] = [];
  return {
    open: async (token: string, opts: Parameters<typeof connect>[1] = {}) => {
      const s = await connectAs(token, opts);
      sockets.push(s);
      return s;
    },
    closeAll: () => {
      for (const s of sockets.splice(0)) s.disconnect();
    },
  };
}
