import { createHash } from 'node:crypto';
import { messageId } from '@chat/shared/ids';
import { plainMessageFields, type Message, type SystemEvent } from '@chat/shared/models/types';

/**
 * The name of the index-th system message of a change to revision `rev` of a conversation. It is
 * derived from the change alone, so the same change (a retried request, a republished outbox)
 * always names the same message and the unique (senderId, clientMsgId) index stores it once.
 */
export const systemClientMsgId = (conversationId: string, rev: number, index: number) => `system:${conversationId}:${rev}:${index}`;

/**
 * A system message recording one event of a change: sent by its actor, no body (clients render
 * `system`; nothing to search), ordered by its time like any message. Its id's random part is a
 * hash of its name, so one change never yields two ids either.
 */
export function systemMessage(conversationId: string, rev: number, index: number, event: SystemEvent, atMs: number): Message {
  const clientMsgId = systemClientMsgId(conversationId, rev, index);
  return {
    // Later events of one change sort after earlier ones.
    id: messageId(atMs + index, createHash('sha256').update(clientMsgId).digest('hex').slice(0, 12)),
    conversationId,
    senderId: event.actorId,
    clientMsgId,
    body: '',
    attachments: [],
    replyToId: null,
    reactions: [],
    createdAt: new Date(atMs + index).toISOString(),
    editedAt: null,
    deletedAt: null,
    ...plainMessageFields(),
    kind: 'system',
    system: event,
  };
}
