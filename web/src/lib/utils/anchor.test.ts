import { describe, expect, it } from 'vitest';
import { plainMessageFields, type Message } from '@chat/shared/models/types';
import { countNewBelow, firstUnread } from './anchor.ts';
import { buildRows } from './rows.ts';
import type { ChatItem } from './messages.ts';

const msg = (id: string, senderId: string, extra: Partial<Message> = {}): ChatItem => ({
  key: `${senderId}:${id}`,
  state: 'sent',
  message: {
    id,
    conversationId: 'c',
    senderId,
    clientMsgId: id,
    body: id,
    attachments: [],
    replyToId: null,
    reactions: [],
    createdAt: `2026-01-01T10:00:0${id}.000Z`,
    editedAt: null,
    deletedAt: null,
    ...plainMessageFields(),
    ...extra,
  },
});

describe('countNewBelow', () => {
  const items = [msg('1', 'me'), msg('2', 'bob'), msg('3', 'me'), msg('4', 'bob'), msg('5', 'bob', { deletedAt: 'x' })];
  const rows = buildRows(items, 'me');

  it("counts others' live messages after the row the reader left at", () => {
    expect(countNewBelow(rows, 'bob:2', 'me')).toBe(1);
    expect(countNewBelow(rows, 'me:1', 'me')).toBe(2);
  });

  it('is 0 at the bottom, or when the row is unknown', () => {
    expect(countNewBelow(rows, null, 'me')).toBe(0);
    expect(countNewBelow(rows, 'nope', 'me')).toBe(0);
    expect(countNewBelow(rows, 'bob:5', 'me')).toBe(0);
  });
});

describe('firstUnread', () => {
  const items = [msg('1', 'bob'), msg('2', 'me'), msg('3', 'bob'), msg('4', 'ann'), msg('5', 'me')];

  it('is the first message from others after my read position', () => {
    expect(firstUnread(items, 'me', 2, '2')).toBe('bob:3');
    expect(firstUnread(items, 'me', 1, '3')).toBe('ann:4');
  });

  it('falls back to counting back unreadCount messages from others', () => {
    expect(firstUnread(items, 'me', 2, null)).toBe('bob:3');
    expect(firstUnread(items, 'me', 1, 'unknown-id')).toBe('ann:4');
    // More unread than loaded: the oldest loaded one from others.
    expect(firstUnread(items, 'me', 9, null)).toBe('bob:1');
  });

  it('skips system messages: they are never unread', () => {
    const withSystem = [msg('1', 'me'), msg('2', 'bob', { kind: 'system', system: { type: 'member_left', actorId: 'bob' } }), msg('3', 'ann')];
    expect(firstUnread(withSystem, 'me', 1, '1')).toBe('ann:3');
    expect(firstUnread(withSystem, 'me', 2, null)).toBe('ann:3');
  });

  it('is null when nothing is unread', () => {
    expect(firstUnread(items, 'me', 0, '1')).toBeNull();
    expect(firstUnread(items, 'me', 3, '4')).toBeNull();
  });
});
