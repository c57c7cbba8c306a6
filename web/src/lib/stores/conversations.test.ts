import { describe, expect, it } from 'vitest';
import { plainMessageFields, type Conversation, type Message } from '@chat/shared/models/types';
import { incomingPatch, mergeFetchedList, neighbour, ownReadClears, sortByActivity, supersededPatch, totalUnread, usersById, withUpdate, withUser } from './conversations.ts';

const msg = (id: string, senderId: string, at: string): Message => ({
  id,
  conversationId: 'c1',
  senderId,
  clientMsgId: `k${id}`,
  body: id,
  attachments: [],
  replyToId: null,
  reactions: [],
  createdAt: at,
  editedAt: null,
  deletedAt: null,
  ...plainMessageFields(),
});
const conv = (id: string, extra: Partial<Conversation> = {}): Conversation => ({
  id,
  type: 'direct',
  title: null,
  members: [],
  admins: [],
  lastMessage: null,
  unreadCount: 0,
  unreadMentionCount: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  notificationLevel: 'all',
  readPositions: [],
  ...extra,
});

describe('unread arithmetic (incomingPatch)', () => {
  const c = conv('c1', { lastMessage: msg('0002', 'bob', '2026-01-01T10:00:02.000Z'), unreadCount: 2 });

  it('a new message from someone else adds one unread and becomes the preview', () => {
    const m = msg('0003', 'bob', '2026-01-01T10:00:03.000Z');
    expect(incomingPatch(c, m, { me: 'me', isNew: true, watching: false })).toEqual({ patch: { lastMessage: m, unreadCount: 3 }, countsAsNew: true });
  });

  it('a new message that mentions me adds one unread mention too; one mentioning others does not', () => {
    const m = { ...msg('0003', 'bob', '2026-01-01T10:00:03.000Z'), mentions: ['me'] };
    expect(incomingPatch({ ...c, unreadMentionCount: 1 }, m, { me: 'me', isNew: true, watching: false }).patch).toEqual({ lastMessage: m, unreadCount: 3, unreadMentionCount: 2 });
    const other = { ...m, mentions: ['carol'] };
    expect(incomingPatch(c, other, { me: 'me', isNew: true, watching: false }).patch.unreadMentionCount).toBeUndefined();
    expect(incomingPatch(c, m, { me: 'me', isNew: true, watching: true }).patch.unreadMentionCount).toBeUndefined();
  });

  it('adds none when I am watching the bottom, for my own message, or for an update', () => {
    const m = msg('0003', 'bob', '2026-01-01T10:00:03.000Z');
    expect(incomingPatch(c, m, { me: 'me', isNew: true, watching: true }).patch).toEqual({ lastMessage: m });
    const mine = msg('0003', 'me', '2026-01-01T10:00:03.000Z');
    expect(incomingPatch(c, mine, { me: 'me', isNew: true, watching: false }).patch).toEqual({ lastMessage: mine });
    const edited = { ...c.lastMessage!, body: 'edited' };
    expect(incomingPatch(c, edited, { me: 'me', isNew: false, watching: false })).toEqual({ patch: { lastMessage: edited }, countsAsNew: false });
  });

  it('an older message (a late duplicate or catch-up) changes neither preview nor count', () => {
    const old = msg('0001', 'bob', '2026-01-01T10:00:01.000Z');
    expect(incomingPatch(c, old, { me: 'me', isNew: true, watching: false })).toEqual({ patch: {}, countsAsNew: false });
  });

  it('the same message delivered twice counts once', () => {
    const m = msg('0003', 'bob', '2026-01-01T10:00:03.000Z');
    const first = incomingPatch(c, m, { me: 'me', isNew: true, watching: false });
    const after = { ...c, ...first.patch };
    expect(incomingPatch(after, m, { me: 'me', isNew: false, watching: false }).patch.unreadCount).toBeUndefined();
  });

  it('a system message becomes the preview but is never unread', () => {
    const m = { ...msg('0003', 'bob', '2026-01-01T10:00:03.000Z'), kind: 'system' as const, system: { type: 'member_left' as const, actorId: 'bob' } };
    expect(incomingPatch(c, m, { me: 'me', isNew: true, watching: false })).toEqual({ patch: { lastMessage: m }, countsAsNew: false });
  });

  it('totals unread over the list', () => {
    expect(totalUnread([conv('a', { unreadCount: 2 }), conv('b'), conv('c', { unreadCount: 5 })])).toBe(7);
  });
});

describe('ownReadClears', () => {
  it('clears the badge only for a read of the newest known message or later', () => {
    const last = { id: 'm0005' } as Message;
    expect(ownReadClears(conv('c1', { lastMessage: last, unreadCount: 3 }), 'm0005')).toBe(true);
    expect(ownReadClears(conv('c1', { lastMessage: last, unreadCount: 3 }), 'm0009')).toBe(true);
    // A late echo of an older read must not wipe messages that came after it.
    expect(ownReadClears(conv('c1', { lastMessage: last, unreadCount: 3 }), 'm0004')).toBe(false);
    expect(ownReadClears(conv('c1'), 'm0001')).toBe(true);
  });
});

describe('mergeFetchedList', () => {
  it('takes the server list, but never moves a conversation back from a live message', () => {
    const live = msg('0009', 'bob', '2026-01-01T10:00:09.000Z');
    const known = [conv('a', { lastMessage: live, unreadCount: 4 }), conv('gone')];
    const fetched = [conv('a', { lastMessage: msg('0005', 'bob', '2026-01-01T10:00:05.000Z'), unreadCount: 3 }), conv('new')];
    const out = mergeFetchedList(known, fetched);
    expect(out.map((c) => c.id)).toEqual(['a', 'new']);
    expect(out[0]).toMatchObject({ lastMessage: live, unreadCount: 4 });
  });

  it("takes the server's copy when it is as new or newer", () => {
    const fresh = conv('a', { lastMessage: msg('0009', 'bob', '2026-01-01T10:00:09.000Z'), unreadCount: 0 });
    expect(mergeFetchedList([conv('a', { lastMessage: msg('0005', 'bob', '2026-01-01T10:00:05.000Z'), unreadCount: 1 })], [fresh])).toEqual([fresh]);
  });
});

describe('order and neighbours', () => {
  const list = sortByActivity([
    conv('old'),
    conv('new', { lastMessage: msg('0001', 'bob', '2026-02-01T00:00:00.000Z') }),
    conv('mid', { updatedAt: '2026-01-15T00:00:00.000Z' }),
  ]);

  it('sorts by newest activity', () => {
    expect(list.map((c) => c.id)).toEqual(['new', 'mid', 'old']);
  });

  it('Alt+↑/↓ moves through the list and wraps', () => {
    expect(neighbour(list, 'new', 1)?.id).toBe('mid');
    expect(neighbour(list, 'new', -1)?.id).toBe('old');
    expect(neighbour(list, 'old', 1)?.id).toBe('new');
    expect(neighbour(list, null, 1)?.id).toBe('new');
    expect(neighbour([], null, 1)).toBeUndefined();
  });
});

describe('a member renamed or given an avatar (withUser)', () => {
  const alice = { id: 'a', username: 'alice', displayName: 'Alice', avatarUrl: null };
  const bob = { id: 'b', username: 'bob', displayName: 'Bob', avatarUrl: null };

  it('replaces the member in every conversation they are in and leaves the others untouched', () => {
    const withAlice = conv('c1', { members: [alice, bob] });
    const without = conv('c2', { members: [bob] });
    const renamed = { ...alice, displayName: 'Alice L.', avatarUrl: '/api/file/avatars/a/x.webp' };
    const next = withUser([withAlice, without], renamed);
    expect(next[0]!.members).toEqual([renamed, bob]);
    expect(next[1]).toBe(without);
  });
});

describe('withUpdate (conversation:updated)', () => {
  it('takes the new title, members and admins and keeps what only the reader knows', () => {
    const known = conv('g', { type: 'group', title: 'Old', lastMessage: msg('0002', 'bob', '2026-01-01T10:00:02.000Z'), unreadCount: 3, unreadMentionCount: 1, notificationLevel: 'none', readPositions: [{ userId: 'bob', messageId: '0002' }] });
    // The gateway's payload has no reader state: its counts are 0.
    const updated = conv('g', { type: 'group', title: 'New', admins: ['bob'], updatedAt: '2026-01-02T00:00:00.000Z', unreadCount: 0, unreadMentionCount: 0 });
    expect(withUpdate(known, updated)).toEqual({ ...updated, lastMessage: known.lastMessage, unreadCount: 3, unreadMentionCount: 1, notificationLevel: 'none', readPositions: known.readPositions });
    expect(withUpdate(undefined, updated)).toBe(updated);
  });
});

describe('usersById', () => {
  it('indexes every member of every conversation, the later listing of a user winning', () => {
    const user = (id: string, displayName: string) => ({ id, username: id, displayName, avatarUrl: null, createdAt: '2026-01-01T00:00:00.000Z' });
    const map = usersById([conv('a', { members: [user('u1', 'Old'), user('u2', 'Two')] }), conv('b', { members: [user('u1', 'New')] })] as Conversation[]);
    expect([...map.keys()]).toEqual(['u1', 'u2']);
    expect(map.get('u1')?.displayName).toBe('New');
  });
});

describe('message:superseded (supersededPatch)', () => {
  const kept = { ...msg('0005', 'bob', '2026-01-01T10:00:05.000Z'), clientMsgId: 'q1', mentions: ['me'] };
  const dropped = { ...kept, id: '0006', createdAt: '2026-01-01T10:00:06.000Z' };

  it('the dropped copy was the preview: the kept message becomes it; both copies counted, one unread (and mention) goes', () => {
    const c = conv('c1', { lastMessage: dropped, unreadCount: 2, unreadMentionCount: 2 });
    expect(supersededPatch(c, dropped.id, kept, { me: 'me', keptSeen: true })).toEqual({ lastMessage: kept, unreadCount: 1, unreadMentionCount: 1 });
  });

  it('only the dropped copy had arrived: it was counted once, as the server counts the kept one', () => {
    const c = conv('c1', { lastMessage: dropped, unreadCount: 1 });
    expect(supersededPatch(c, dropped.id, kept, { me: 'me', keptSeen: false })).toEqual({ lastMessage: kept });
    // The kept copy then arrives as the preview itself: no new unread.
    expect(incomingPatch({ ...c, lastMessage: kept }, kept, { me: 'me', isNew: true, watching: false }).countsAsNew).toBe(false);
  });

  it('my own message counts nothing either way; a dropped id that is not the preview changes nothing', () => {
    const mine = { ...kept, senderId: 'me' };
    expect(supersededPatch(conv('c1', { lastMessage: { ...mine, id: dropped.id }, unreadCount: 1 }), dropped.id, mine, { me: 'me', keptSeen: true })).toEqual({ lastMessage: mine });
    expect(supersededPatch(conv('c1', { lastMessage: msg('0007', 'bob', '2026-01-01T10:00:07.000Z'), unreadCount: 3 }), dropped.id, kept, { me: 'me', keptSeen: true })).toEqual({});
  });
});
