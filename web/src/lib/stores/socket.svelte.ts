import { io, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '@chat/shared/events/socket';
import { auth } from './auth.svelte.ts';

export type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type ConnectionStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline';

type EventName = keyof ClientToServerEvents;
type PayloadOf<E extends EventName> = Parameters<ClientToServerEvents[E]>[0];
type AckOf<E extends EventName> = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0];

export const ACK_TIMEOUT_MS = 10_000;

/**
 * The Socket.IO connection at the same origin (path /socket.io/). The handshake reads the current
 * access token each time it connects; a renewed token is pushed with the `auth:renew` extension
 * event, and if the server does not accept that, the socket reconnects with the new token.
 */
class SocketStore {
  status = $state<ConnectionStatus>('idle');
  /** True while the browser reports no network at all. */
  browserOffline = $state(typeof navigator !== 'undefined' ? !navigator.onLine : false);
  everConnected = $state(false);

  socket: ChatSocket | null = null;
  #connectHandlers = new Set<(first: boolean) => void>();
  #disconnectHandlers = new Set<() => void>();
  #unsubToken: (() => void) | null = null;

  constructor() {
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => {
        this.browserOffline = false;
        if (this.socket && !this.socket.connected) this.socket.connect();
      });
      window.addEventListener('offline', () => (this.browserOffline = true));
    }
  }

  get connected(): boolean {
    return this.status === 'connected';
  }

  /** Called on every (re)connection; `first` is true for the first one of this page. */
  onConnect(fn: (first: boolean) => void): () => void {
    this.#connectHandlers.add(fn);
    return () => this.#connectHandlers.delete(fn);
  }

  onDisconnect(fn: () => void): () => void {
    this.#disconnectHandlers.add(fn);
    return () => this.#disconnectHandlers.delete(fn);
  }

  connect(): ChatSocket {
    if (this.socket) return this.socket;
    const socket: ChatSocket = io({
      path: '/socket.io/',
      auth: (cb) => cb({ token: auth.token ?? '' }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    this.socket = socket;
    this.status = 'connecting';

    socket.on('connect', () => {
      const first = !this.everConnected;
      this.everConnected = true;
      this.status = 'connected';
      for (const fn of this.#connectHandlers) fn(first);
    });
    socket.on('disconnect', (reason) => {
      this.status = reason === 'io client disconnect' ? 'idle' : 'reconnecting';
      for (const fn of this.#disconnectHandlers) fn();
    });
    socket.io.on('reconnect_attempt', () => {
      if (this.status !== 'connected') this.status = 'reconnecting';
    });
    socket.on('connect_error', async (err) => {
      this.status = this.everConnected ? 'reconnecting' : 'connecting';
      // A middleware refusal (bad/expired token) is not retried by Socket.IO: renew and retry once.
      if (!socket.active) {
        if (err.message === 'unauthorized') {
          const token = await auth.renew();
          if (!token) return;
        }
        setTimeout(() => {
          if (!socket.connected && this.socket === socket) socket.connect();
        }, 1000);
      }
    });
    socket.on('auth:expiring', () => void auth.renew());

    this.#unsubToken = auth.onToken((token) => void this.#pushToken(token));
    return socket;
  }

  disconnect() {
    this.#unsubToken?.();
    this.#unsubToken = null;
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    this.status = 'idle';
    this.everConnected = false;
  }

  /** Emits with an acknowledgement; rejects on timeout or when not connected. */
  async request<E extends EventName>(event: E, payload: PayloadOf<E>, timeout = ACK_TIMEOUT_MS): Promise<AckOf<E>> {
    const socket = this.socket;
    if (!socket || !socket.connected) throw new Error('offline');
    // Typed through the shared event map; the cast only bridges Socket.IO's variadic generics.
    const timed = socket.timeout(timeout) as unknown as { emitWithAck(e: E, p: PayloadOf<E>): Promise<AckOf<E>> };
    return timed.emitWithAck(event, payload);
  }

  async #pushToken(token: string) {
    const socket = this.socket;
    if (!socket?.connected) return; // the next handshake reads auth.token itself
    try {
      const ack = (await this.request('auth:renew', { token })) as Ack<{ expiresAt: string }>;
      if (ack.ok) return;
    } catch {
      /* no ack: fall through */
    }
    // The gateway did not take the new token in place: reconnect with it.
    if (this.socket === socket) {
      socket.disconnect();
      socket.connect();
    }
  }
}

export const socket = new SocketStore();
