import type { ReadEvent } from '@chat/shared/events/bus';
import type { ChatServer } from './handlers.ts';

/**
 * conversation.read (the db function moved a read position) → the contract's `read` event to the
 * conversation's room. Each gateway consumes it on its own queue, so each emits to its local
 * sockets only and nothing is fanned out twice.
 */
export function relayRead(io: ChatServer, room: string, e: ReadEvent): void {
  io.local.to(room).emit('read', { conversationId: e.conversationId, userId: e.userId, messageId: e.messageId });
}
