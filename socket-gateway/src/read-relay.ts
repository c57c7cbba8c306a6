import type { MessageSupersededEvent, ReadEvent, ThreadUpdatedEvent } from '@chat/shared/events/bus';
import type { ChatServer } from './handlers.ts';

/**
 * conversation.read (the db function moved a read position) → the contract's `read` event to the
 * conversation's room. Each gateway consumes it on its own queue, so each emits to its local
 * sockets only and nothing is fanned out twice.
 */
export function relayRead(io: ChatServer, room: string, e: ReadEvent): void {
  io.local.to(room).emit('read', { conversationId: e.conversationId, userId: e.userId, messageId: e.messageId, ...(e.threadRootId ? { threadRootId: e.threadRootId } : {}) });
}

/**
 * conversation.thread.updated (the db function stored replies) → `message:updated` with the root
 * and its new summary, to the conversation's room, from each gateway to its local sockets.
 */
export function relayThread(io: ChatServer, room: string, e: ThreadUpdatedEvent): void {
  io.local.to(room).emit('message:updated', { message: e.message });
}

/**
 * conversation.message.superseded (the store kept another copy of a resend) → `message:superseded`
 * to the conversation's room, from each gateway to its local sockets: the event as parsed.
 */
export function relaySuperseded(io: ChatServer, room: string, e: MessageSupersededEvent): void {
  io.local.to(room).emit('message:superseded', e);
}
