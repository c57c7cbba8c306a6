import { describe, expect, it } from 'vitest';
import { plainMessageFields, type Message } from '@chat/shared/models/types';
import { buildRows } from './rows.ts';
import type { ChatItem } from './messages.ts';

const item = (id: string, senderId: string, createdAt: string, over: Partial<Message> = {}): ChatItem => ({
  key: id,
  state: 'sent',
  message: { id, conversationId: 'c', senderId, clientMsgId: id, body: id, attachments: [], replyToId: null, reactions: [], createdAt, editedAt: null, deletedAt: null, ...plainMessageFields(), ...over },
});

describe('buildRows', () => {
  it('groups by sender and day, with a divider per day', () => {
    const rows = buildRows(
      [
        item('a', 'u1', '2024-03-01T10:00:00'),
        item('b', 'u1', '2024-03-01T10:01:00'),
        item('c', 'u2', '2024-03-01T10:02:00'),
        item('d', 'u2', '2024-03-01T10:30:00'), // > 5 min later: new group
        item('e', 'u2', '2024-03-02T09:00:00'), // next day
        item('f', 'u2', '2024-03-02T09:00:30', { replyToId: 'e' }), // replies start a group
      ],
      'u1',
      new Date('2024-03-02T12:00:00'),
    );
    expect(rows.map((r) => (r.kind === 'day' ? `day:${r.label}` : r.kind === 'system' ? r.key : `${r.key}${r.groupStart ? '*' : ''}${r.own ? '(own)' : ''}`))).toEqual([
      expect.stringMatching(/^day:/),
      'a*(own)',
      'b(own)',
      'c*',
      'd*',
      'day:Today',
      'e*',
      'f*',
    ]);
  });

  it('a system message is its own row, outside any sender group, and the next message starts a group', () => {
    const rows = buildRows(
      [
        item('a', 'u1', '2024-03-01T10:00:00'),
        item('s', 'u1', '2024-03-01T10:00:30', { kind: 'system', system: { type: 'member_left', actorId: 'u1' } }),
        item('b', 'u1', '2024-03-01T10:01:00'),
      ],
      'u2',
      new Date('2024-03-01T12:00:00'),
    );
    expect(rows.slice(1).map((r) => (r.kind === 'msg' ? `${r.key}${r.groupStart ? '*' : ''}` : `${r.kind}:${r.key}`))).toEqual(['a*', 'system:s', 'b*']);
  });

  it('handles 10,000 messages quickly', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => item(`m${i}`, i % 3 ? 'u1' : 'u2', new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()));
    const t = performance.now();
    const rows = buildRows(items, 'u1');
    expect(performance.now() - t).toBeLessThan(500);
    expect(rows.filter((r) => r.kind === 'msg')).toHaveLength(10_000);
  });
});
