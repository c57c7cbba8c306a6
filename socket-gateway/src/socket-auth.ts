import type { Socket } from 'socket.io';
import type { TokenVerifier } from '@chat/shared/auth/verifier';
import { AppError } from '@chat/shared/errors';
import type { ConversationRecord } from '@chat/shared/repositories/conversations';

/**
 * Handshake authentication and token lifetime. A socket lives no longer than its access token:
 * a minute before expiry the client gets `auth:expiring` and may send `auth:renew` with a fresh
 * token (same user) to keep the connection; otherwise it is disconnected at expiry and its
 * reconnect must present a valid token.
 */
export interface SocketData {
  userId: string;
  expiresAt: number;
  timers?: { warn?: NodeJS.Timeout; expire?: NodeJS.Timeout };
  /** Set between the room-joining middleware and the connection handler. */
  conversations?: ConversationRecord[];
}

export function handshake(verifier: TokenVerifier) {
  return async (socket: Socket, next: (err?: Error) => void) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    try {
      const claims = await verifier.verify(typeof token === 'string' ? token : null);
      (socket.data as SocketData).userId = claims.userId;
      (socket.data as SocketData).expiresAt = claims.expiresAt;
      next();
    } catch (e) {
      next(new Error(e instanceof AppError && e.code === 'unavailable' ? 'unavailable' : 'unauthorized'));
    }
  };
}

const WARN_BEFORE_MS = 60_000;

export function scheduleExpiry(socket: Socket): void {
  const data = socket.data as SocketData;
  clearExpiry(socket);
  const msLeft = data.expiresAt * 1000 - Date.now();
  data.timers = {
    warn: setTimeout(() => socket.emit('auth:expiring', { expiresAt: new Date(data.expiresAt * 1000).toISOString() }), Math.max(0, msLeft - WARN_BEFORE_MS)),
    expire: setTimeout(() => socket.disconnect(true), Math.max(0, msLeft)),
  };
}

export function clearExpiry(socket: Socket): void {
  const t = (socket.data as SocketData).timers;
  if (t?.warn) clearTimeout(t.warn);
  if (t?.expire) clearTimeout(t.expire);
}
