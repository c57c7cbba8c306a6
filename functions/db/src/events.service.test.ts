import { describe, expect, it } from 'vitest';
import { parseEvent } from './events.service.ts';

const message = {
  id: '018f00000000aaaabbbbcccc',
  conversationId: '65f000000000000000000000',
  senderId: '65f000000000000000000001',
  clientMsgId: 'c1',
  body: 'hi',
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('parseEvent', () => {
  it('fills the optional message fields with their contract defaults', () => {
    expect(parseEvent('message.created', { message })).toEqual({
      topic: 'message.created',
      event: { message: { ...message, attachments: [], replyToId: null, reactions: [], editedAt: null, deletedAt: null, kind: 'user', system: null, mentions: [], threadRootId: null, alsoToChannel: false, thread: null } },
    });
  });
  it('keeps an edit without mentions (published before edits carried them) as such, so stored mentions stay', () => {
    const edit = { kind: 'edit', messageId: 'm', conversationId: 'c', body: 'x', editedAt: '2026-01-01T00:00:00Z' };
    expect(parseEvent('message.updated', edit)?.event).toEqual(edit);
    expect(parseEvent('message.updated', { ...edit, mentions: ['u1'] })?.event).toEqual({ ...edit, mentions: ['u1'] });
  });
  it('ignores topics the db function does not store', () => {
    expect(parseEvent('conversation.created', { conversationId: 'x', memberIds: [] })).toBeNull();
    expect(parseEvent('no.such.topic', 42)).toBeNull();
  });
  it.each([
    ['message.created', { message: { ...message, id: { $gt: '' } } }],
    ['message.created', { message: { ...message, body: 'x'.repeat(4001) } }],
    ['message.created', {}],
    ['message.updated', { kind: 'edit', messageId: 'm', conversationId: 'c', body: '', editedAt: '2026-01-01T00:00:00Z' }],
    ['message.updated', { kind: 'edit', messageId: 'm', conversationId: 'c', body: 'x', editedAt: '2026-01-01T00:00:00Z', mentions: [{ $ne: '' }] }],
    ['message.updated', { kind: 'reaction', messageId: 'm', conversationId: 'c', emoji: '👍', userId: 'u', op: 'toggle' }],
    ['message.deleted', { messageId: 'm', conversationId: 'c', deletedAt: 'yesterday', deletedBy: 'u' }],
  ])('refuses a malformed %s event with invalid_request', (topic, raw) => {
    expect(() => parseEvent(topic, raw)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
});
