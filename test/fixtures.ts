import { randomBytes } from 'node:crypto';
import { messageId as sharedMessageId } from '@chat/shared/ids';
import { plainMessageFields, type Message } from '@chat/shared/models/types';

/** Test data in the contract's shapes, with no servers involved (usable from unit tests too). */
let lastMs = 0;
let seq = 0;
/**
 * The gateway's id format (shared/src/ids.ts), with a per-millisecond sequence in the suffix so
 * messages a test creates within one millisecond still sort in creation order.
 */
export function messageId(at = Date.now()): string {
  seq = at === lastMs ? seq + 1 : 0;
  lastMs = at;
  return sharedMessageId(at, seq.toString(16).padStart(4, '0') + randomBytes(4).toString('hex'));
}

/**
 * The id and createdAt of a message sent `agoMs` ago. The db function opens the chunks of live
 * traffic at a floor a moment ahead (functions/db/src/history/chunker.ts, LiveFloor); messages
 * this old are placed as a backlog is, a chunk opening at the id that opens it, which is what a
 * test of exact chunk edges needs.
 */
export function sentAgo(agoMs: number): Pick<Message, 'id' | 'createdAt'> {
  const at = Date.now() - agoMs;
  return { id: messageId(at), createdAt: new Date(at).toISOString() };
}

export function makeMessage(conversationId: string, senderId: string, body: string, extra: Partial<Message> = {}): Message {
  const id = extra.id ?? messageId();
  return {
    id,
    conversationId,
    senderId,
    clientMsgId: `c-${id}`,
    body,
    attachments: [],
    replyToId: null,
    reactions: [],
    createdAt: new Date().toISOString(),
    editedAt: null,
    deletedAt: null,
    ...plainMessageFields(),
    ...extra,
  };
}
