import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { TokenVerifier } from '@chat/shared/auth/verifier';
import type { InFlight } from '@chat/shared/concurrency';
import { errors, toAppError } from '@chat/shared/errors';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '@chat/shared/events/socket';
import type { Logger } from '@chat/shared/log';
import { LIMITS } from '@chat/shared/models/limits';
import {
  deleteMessagePayload,
  describeIssue,
  editMessagePayload,
  reactionPayload,
  readPayload,
  sendMessagePayload,
  typingPayload,
} from '@chat/shared/models/validation';
import type { MessagingService } from './messaging.service.ts';
import { rooms } from './rooms.ts';
import type { SocketData, TokenExpiry } from './socket-auth.ts';

export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

type Handler = (socket: ChatSocket, payload: unknown, ack: unknown) => Promise<void>;

/**
 * Wraps a handler: validates the payload, runs it, and always acks — `{ok:false, error}` with the
 * contract's codes on failure. A bad payload never disconnects the socket.
 */
function handle<S extends z.ZodType, R extends object>(
  log: Logger,
  schema: S,
  fn: (socket: ChatSocket, input: z.output<S>) => Promise<R>,
): Handler {
  return async (socket, payload, ack) => {
    const reply = typeof ack === 'function' ? (ack as (a: Ack<R>) => void) : () => undefined;
    try {
      const parsed = schema.safeParse(payload);
      if (!parsed.success) throw errors.invalid(describeIssue(parsed.error));
      reply({ ok: true, ...(await fn(socket, parsed.data)) });
    } catch (e) {
      const err = toAppError(e);
      if (err.code === 'internal') log.error('socket handler failed', { err: e });
      reply({ ok: false, error: { code: err.code, message: err.message } });
    }
  };
}

/**
 * The client events, built once per server. Every socket gets the same single dispatcher
 * (`socket.onAny`), which finds the socket in `this`: a closure per event per socket would cost
 * each idle connection about a kilobyte and a half. Unknown events are ignored, as before.
 */
export function createHandlers(
  io: ChatServer,
  deps: { service: MessagingService; verifier: TokenVerifier; log: Logger; typing: TypingTracker; expiry: TokenExpiry; inFlight?: InFlight },
) {
  const { service, verifier, log, typing, expiry } = deps;

  const handlers = new Map<keyof ClientToServerEvents, Handler>([
    [
      'message:send',
      handle(log, sendMessagePayload, async (socket, input) => {
        const userId = socket.data.userId;
        // Everyone in the conversation, the sender's other sockets included; the sending socket has the ack.
        const message = await service.send(userId, input, (m) => io.to(rooms.conversation(m.conversationId)).except(socket.id).emit('message:new', { message: m }));
        typing.stop(message.conversationId, userId, message.threadRootId);
        return { message };
      }),
    ],
    [
      'message:edit',
      handle(log, editMessagePayload, async (socket, input) => {
        const message = await service.edit(socket.data.userId, input);
        io.to(rooms.conversation(message.conversationId)).emit('message:updated', { message });
        return { message };
      }),
    ],
    [
      'message:delete',
      handle(log, deleteMessagePayload, async (socket, input) => {
        const gone = await service.remove(socket.data.userId, input);
        io.to(rooms.conversation(gone.conversationId)).emit('message:deleted', gone);
        return {};
      }),
    ],
    [
      'reaction:toggle',
      handle(log, reactionPayload, async (socket, input) => {
        const message = await service.toggleReaction(socket.data.userId, input);
        io.to(rooms.conversation(message.conversationId)).emit('message:updated', { message });
        return { message };
      }),
    ],
    [
      'typing',
      handle(log, typingPayload, async (socket, input) => {
        const userId = socket.data.userId;
        await service.assertMember(input.conversationId, userId);
        // In a thread: typing in that thread's composer, told apart from the conversation's.
        if (input.isTyping) typing.start(input.conversationId, userId, input.threadRootId);
        else typing.stop(input.conversationId, userId, input.threadRootId);
        return {};
      }),
    ],
    [
      'read',
      handle(log, readPayload, async (socket, input) => {
        // The room hears of it once the db function has stored it (conversation.read).
        await service.markRead(socket.data.userId, input);
        return {};
      }),
    ],
    [
      'auth:renew',
      async (socket, payload, ack) => {
        const reply = typeof ack === 'function' ? (ack as (a: Ack<{ expiresAt: string }>) => void) : () => undefined;
        try {
          const claims = await verifier.verify((payload as { token?: string } | undefined)?.token);
          if (claims.userId !== socket.data.userId) throw errors.forbidden('The token belongs to another user.');
          // A socket that closed while the token was being checked has nothing left to renew.
          if (socket.connected) expiry.renew(socket, claims.expiresAt);
          reply({ ok: true, expiresAt: new Date(claims.expiresAt * 1000).toISOString() });
        } catch (e) {
          const err = toAppError(e);
          reply({ ok: false, error: { code: err.code, message: err.message } });
        }
      },
    ],
  ]);

  return function dispatch(this: ChatSocket, event: string, payload?: unknown, ack?: unknown) {
    const running = handlers.get(event as keyof ClientToServerEvents)?.(this, payload, ack);
    // Counted so a stopping gateway answers every request it has begun before closing sockets.
    if (running) void deps.inFlight?.track(running);
  };
}

/**
 * Typing state on this instance: "isTyping: true" lasts 6 s unless renewed, then the others are
 * told it stopped, so a client that vanishes mid-sentence never leaves "typing…" behind.
 */
export class TypingTracker {
  private timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly io: ChatServer) {}

  start(conversationId: string, userId: string, threadRootId?: string | null): void {
    const key = typingKey(conversationId, userId, threadRootId);
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    else this.emit(conversationId, userId, true, threadRootId);
    this.timers.set(key, setTimeout(() => this.stop(conversationId, userId, threadRootId), LIMITS.typingTimeoutMs));
  }

  stop(conversationId: string, userId: string, threadRootId?: string | null): void {
    const key = typingKey(conversationId, userId, threadRootId);
    const t = this.timers.get(key);
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(key);
    this.emit(conversationId, userId, false, threadRootId);
  }

  stopAll(userId: string): void {
    for (const key of [...this.timers.keys()]) {
      const [conversationId, u, threadRootId] = key.split('|');
      if (u === userId) this.stop(conversationId!, userId, threadRootId || null);
    }
  }

  private emit(conversationId: string, userId: string, isTyping: boolean, threadRootId?: string | null) {
    this.io
      .to(rooms.conversation(conversationId))
      .except(rooms.user(userId))
      .emit('typing', { conversationId, userId, isTyping, ...(threadRootId ? { threadRootId } : {}) });
  }
}

const typingKey = (conversationId: string, userId: string, threadRootId?: string | null) => `${conversationId}|${userId}|${threadRootId ?? ''}`;
