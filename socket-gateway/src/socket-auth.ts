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
  /** The access token's exp (seconds since the epoch). */
  expiresAt: number;
  /** Set between the room-joining middleware and the connection handler. */
  conversations?: ConversationRecord[] | undefined;
}

export function handshake(verifier: TokenVerifier) {
  return async (socket: Socket, next: (err?: Error) => void) => {
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const token = auth?.token;
    try {
      const claims = await verifier.verify(typeof token === 'string' ? token : null);
      // The handshake lives as long as the socket; the credential has done its job.
      delete auth!.token;
      (socket.data as SocketData).userId = claims.userId;
      (socket.data as SocketData).expiresAt = claims.expiresAt;
      next();
    } catch (e) {
      next(new Error(e instanceof AppError && e.code === 'unavailable' ? 'unavailable' : 'unauthorized'));
    }
  };
}

const WARN_BEFORE_S = 60;

/**
 * Members due at a whole second, grouped by that second: one timer per second that has members.
 * Token exp is in whole seconds and sockets arrive in bursts, so thousands of sockets share a
 * handful of timers instead of holding one (with its closure and timer list) each.
 */
export class Deadlines<T> {
  private buckets = new Map<number, { timer: NodeJS.Timeout; members: Set<T> }>();

  constructor(private readonly fire: (member: T) => void) {}

  add(atSeconds: number, member: T): void {
    let bucket = this.buckets.get(atSeconds);
    if (!bucket) {
      const members = new Set<T>();
      const timer = setTimeout(() => {
        // Out of the map first: members leaving while they fire must not touch a spent bucket.
        this.buckets.delete(atSeconds);
        for (const m of members) this.fire(m);
      }, Math.max(0, atSeconds * 1000 - Date.now()));
      bucket = { timer, members };
      this.buckets.set(atSeconds, bucket);
    }
    bucket.members.add(member);
  }

  /** False when the member was not waiting for that second. */
  remove(atSeconds: number, member: T): boolean {
    const bucket = this.buckets.get(atSeconds);
    if (!bucket?.members.delete(member)) return false;
    if (bucket.members.size) return true;
    clearTimeout(bucket.timer);
    this.buckets.delete(atSeconds);
    return true;
  }

  /** Pending seconds; for tests. */
  get size(): number {
    return this.buckets.size;
  }
}

/**
 * The expiry warning and the disconnect at expiry for every socket of this instance. A socket
 * waits for one deadline at a time (its warning, then once warned its disconnect): one set entry
 * per idle socket rather than two.
 */
export class TokenExpiry {
  private readonly expiries = new Deadlines<Socket>((s) => s.disconnect(true));
  private readonly warnings = new Deadlines<Socket>((s) => {
    if (s.disconnected) return;
    const at = (s.data as SocketData).expiresAt;
    s.emit('auth:expiring', { expiresAt: new Date(at * 1000).toISOString() });
    this.expiries.add(at, s);
  });

  /** Starts watching the socket's current token (socket.data.expiresAt). */
  track(socket: Socket): void {
    this.warnings.add((socket.data as SocketData).expiresAt - WARN_BEFORE_S, socket);
  }

  untrack(socket: Socket): void {
    const at = (socket.data as SocketData).expiresAt;
    if (!this.warnings.remove(at - WARN_BEFORE_S, socket)) this.expiries.remove(at, socket);
  }

  /** A renewed token: the socket now lives until the new exp. */
  renew(socket: Socket, expiresAt: number): void {
    this.untrack(socket);
    (socket.data as SocketData).expiresAt = expiresAt;
    this.track(socket);
  }
}
