import { describe, expect, it } from 'vitest';
import { plainMessageFields, type Message } from '@chat/shared/models/types';
import { applyDeleted, catchUp, catchUpCursor, itemKey, lastServerId, mergeFirstPage, messageHref, mergeMessages, upsertPending, withoutMessage, type ChatItem } from './messages.ts';

let seq = 0;
function msg(n: number, over: Partial<Message> = {}): Message {
  return {
    id: `m${String(n).padStart(4, '0')}`,
    conversationId: 'c1',
    senderId: n % 2 ? 'alice' : 'bob',
    clientMsgId: `cm-${n}-${++seq}`,
    body: `message ${n}`,
    attachments: [],
    replyToId: null,
    reactions: [],
    createdAt: new Date(Date.UTC(2024, 0, 1, 10, 0, n)).toISOString(),
    editedAt: null,
    deletedAt: null,
    ...plainMessageFields(),
    ...over,
  };
}
const ids = (items: ChatItem[]) => items.map((i) => i.message.id || `pending:${i.message.clientMsgId}`);

describe('mergeMessages', () => {
  it('dedupes by id and keeps server order regardless of arrival order', () => {
    const a = msg(1);
    const b = msg(2);
    const c = msg(3);
    let items = mergeMessages([], [a, c]);
    items = mergeMessages(items, [b, c, a]);
    expect(ids(items)).toEqual(['m0001', 'm0002', 'm0003']);
    expect(mergeMessages(items, [a, b])).toBe(items); // nothing changed: same array back
  });

  it('replaces an optimistic message by its server copy (pending -> sent) and keeps other pending last', () => {
    const pending1: Message = { ...msg(10), id: '', senderId: 'me', clientMsgId: 'local-1' };
    const pending2: Message = { ...msg(11), id: '', senderId: 'me', clientMsgId: 'local-2' };
    let items = mergeMessages([], [msg(1)]);
    items = upsertPending(items, { key: itemKey(pending1), message: pending1, state: 'pending' });
    items = upsertPending(items, { key: itemKey(pending2), message: pending2, state: 'pending' });
    const keyBefore = items[1]!.key;

    const confirmed = { ...pending1, id: 'm0005', createdAt: msg(5).createdAt };
    items = mergeMessages(items, [confirmed, msg(6)]);
    expect(ids(items)).toEqual(['m0001', 'm0005', 'm0006', 'pending:local-2']);
    expect(items[1]!.state).toBe('sent');
    expect(items[1]!.key).toBe(keyBefore); // stable key: the row is not re-created
    // A late duplicate of the same message (message:new after the ack) changes nothing.
    expect(mergeMessages(items, [confirmed])).toBe(items);
  });

  it('applies edits and reactions to the existing entry, and never un-deletes', () => {
    let items = mergeMessages([], [msg(1), msg(2)]);
    const edited = { ...msg(2), clientMsgId: items[1]!.message.clientMsgId, body: 'edited', editedAt: new Date().toISOString() };
    items = mergeMessages(items, [edited]);
    expect(items[1]!.message.body).toBe('edited');
    items = applyDeleted(items, 'm0002');
    expect(items[1]!.message).toMatchObject({ body: '', attachments: [], deletedAt: expect.any(String) });
    items = mergeMessages(items, [edited]); // a stale update arriving late
    expect(items[1]!.message.deletedAt).not.toBeNull();
  });

  it('keeps a pending item that the server has not confirmed yet', () => {
    const p: Message = { ...msg(3), id: '', senderId: 'me', clientMsgId: 'x' };
    let items = upsertPending([], { key: itemKey(p), message: p, state: 'pending' });
    items = mergeMessages(items, [msg(1)]);
    expect(ids(items)).toEqual(['m0001', 'pending:x']);
    expect(lastServerId(items)).toBe('m0001');
  });
});

describe('catchUp', () => {
  const pagedServer = (server: Message[], size: number) => async (after: string) => {
    const i = server.findIndex((m) => m.id === after);
    const page = server.slice(i + 1, i + 1 + size);
    return { messages: page, hasMore: i + 1 + size < server.length };
  };

  it('fills the gap from the contiguous cursor and merges without gaps or duplicates', async () => {
    const server = Array.from({ length: 250 }, (_, i) => msg(i + 1));
    // Seen 1..100 before the drop; cursor = m0100.
    let items = mergeMessages([], server.slice(0, 100));
    const cursor = lastServerId(items)!;
    const pending: Message = { ...msg(999), id: '', senderId: 'me', clientMsgId: 'queued' };
    items = upsertPending(items, { key: itemKey(pending), message: pending, state: 'pending' });

    const cursors: string[] = [];
    const fetchAfter = pagedServer(server, 100);
    const running = catchUp(cursor, (after) => (cursors.push(after), fetchAfter(after)));
    // Live events arrive while the catch-up is in flight (after the reconnect).
    items = mergeMessages(items, [server[119]!, server[249]!]);
    const res = await running;
    items = mergeMessages(items, res.messages);

    expect(cursors).toEqual(['m0100', 'm0200', 'm0250'].slice(0, cursors.length));
    expect(res.complete).toBe(true);
    const got = items.filter((i) => i.state === 'sent').map((i) => i.message.id);
    expect(got).toEqual(server.map((m) => m.id)); // every message once, in order, no gap
    expect(items[items.length - 1]!.message.clientMsgId).toBe('queued');
  });

  it('fetches exactly the missed messages', async () => {
    const server = Array.from({ length: 30 }, (_, i) => msg(i + 1));
    const res = await catchUp('m0010', pagedServer(server, 7));
    expect(res.messages.map((m) => m.id)).toEqual(server.slice(10).map((m) => m.id));
  });

  it('reports incomplete when too far behind', async () => {
    let n = 1;
    const res = await catchUp('m0001', async () => ({ messages: [msg(++n)], hasMore: true }), 3);
    expect(res.complete).toBe(false);
    expect(res.messages).toHaveLength(3);
  });
});

describe('catchUpCursor', () => {
  const pending = (n: number): ChatItem => ({ key: `me:q${n}`, message: { ...msg(n), id: '', senderId: 'me', clientMsgId: `q${n}` }, state: 'pending' });

  it('starts a margin behind the newest message, so one announced late while away is not skipped', async () => {
    const server = Array.from({ length: 100 }, (_, i) => msg(i + 1)); // a second apart
    // m0095 got its id before m0096..m0100 but reached members after the connection dropped.
    const held = mergeMessages([], server.filter((m) => m.id !== 'm0095'));
    expect(lastServerId(held)).toBe('m0100');
    expect(catchUpCursor(held, 30_000)).toBe('m0070');
    const res = await catchUp(catchUpCursor(held, 30_000)!, async (after) => ({ messages: server.slice(server.findIndex((m) => m.id === after) + 1), hasMore: false }));
    expect(ids(mergeMessages(held, res.messages))).toEqual(server.map((m) => m.id));
  });

  it('ignores pending items, falls back to the oldest confirmed one within the margin, and is null without any', () => {
    expect(catchUpCursor([...mergeMessages([], [msg(1), msg(10), msg(20)]), pending(59)], 30_000)).toBe('m0001');
    expect(catchUpCursor([...mergeMessages([], [msg(1), msg(40)]), pending(59)], 30_000)).toBe('m0001');
    expect(catchUpCursor(mergeMessages([], [msg(1), msg(40), msg(50)]), 30_000)).toBe('m0001');
    expect(catchUpCursor(mergeMessages([], [msg(5), msg(40), msg(50)]), 10_000)).toBe('m0040');
    expect(catchUpCursor(mergeMessages([], [msg(5)]), 30_000)).toBe('m0005');
    expect(catchUpCursor([pending(1)], 30_000)).toBeNull();
    expect(catchUpCursor([], 30_000)).toBeNull();
  });
});

describe('mergeFirstPage', () => {
  it('keeps a live message that the store did not hold yet when the page was read', () => {
    const live = mergeMessages([], [msg(3)]);
    expect(ids(mergeFirstPage(live, { messages: [msg(1), msg(2)], hasMore: false }))).toEqual(['m0001', 'm0002', 'm0003']);
    expect(ids(mergeFirstPage(live, { messages: [msg(2)], hasMore: true }))).toEqual(['m0002', 'm0003']);
  });

  it('drops live messages older than a page with more behind it, so paging back leaves no gap', () => {
    // m1 arrived live, then the page holds m5..m6 and says there is more: m2..m4 are not held.
    const live = mergeMessages([], [msg(1), msg(7)]);
    const items = mergeFirstPage(live, { messages: [msg(6), msg(5)], hasMore: true });
    expect(ids(items)).toEqual(['m0005', 'm0006', 'm0007']);
    // With nothing behind the page, the page is the whole conversation and nothing is dropped.
    expect(ids(mergeFirstPage(live, { messages: [msg(5)], hasMore: false }))).toEqual(['m0001', 'm0005', 'm0007']);
  });

  it('takes the page copy of a message it already holds (the page was read later)', () => {
    const live = mergeMessages([], [msg(2)]);
    const edited = msg(2, { body: 'edited', editedAt: new Date().toISOString() });
    expect(mergeFirstPage(live, { messages: [edited], hasMore: false })[0]!.message.body).toBe('edited');
  });
});

describe('message:superseded (withoutMessage, then the kept copy merged as any incoming message)', () => {
  // The first send and its resend after the gateway lost its ledger: same sender and clientMsgId, two ids.
  const kept = msg(5, { senderId: 'me', clientMsgId: 'queued-1' });
  const dropped = msg(6, { senderId: 'me', clientMsgId: 'queued-1' });
  const supersede = (items: ChatItem[]) => mergeMessages(withoutMessage(items, dropped.id), [kept]);

  it('both copies shown: the dropped one goes, the kept one stays, once', () => {
    const items = mergeMessages([], [msg(4), kept, dropped, msg(7)]);
    expect(ids(items)).toEqual(['m0004', 'm0005', 'm0006', 'm0007']);
    // withoutMessage alone already keeps the kept copy (the merge after it would hide its loss).
    expect(ids(withoutMessage(items, dropped.id))).toEqual(['m0004', 'm0005', 'm0007']);
    expect(ids(supersede(items))).toEqual(['m0004', 'm0005', 'm0007']);
  });

  it('only the dropped copy shown: it is replaced by the kept one, in its own place', () => {
    const items = mergeMessages([], [msg(4), dropped, msg(7)]);
    expect(ids(withoutMessage(items, dropped.id))).toEqual(['m0004', 'm0007']);
    const after = supersede(items);
    expect(ids(after)).toEqual(['m0004', 'm0005', 'm0007']);
    expect(after[1]!.key).toBe(itemKey(kept));
  });

  it('an optimistic send of that clientMsgId is left alone by withoutMessage and becomes the kept message', () => {
    const pending: Message = { ...kept, id: '' };
    const items = upsertPending(mergeMessages([], [msg(4)]), { key: itemKey(pending), message: pending, state: 'pending' });
    expect(withoutMessage(items, dropped.id)).toBe(items);
    const after = supersede(items);
    expect(after.map((i) => [i.message.id, i.state])).toEqual([['m0004', 'sent'], ['m0005', 'sent']]);
  });

  it('removes by id, never by key: the kept copy shares its key with the dropped one', () => {
    const items = mergeMessages([], [kept, dropped]);
    expect(ids(withoutMessage(items, dropped.id))).toEqual(['m0005']);
    expect(withoutMessage(items, 'm9999')).toBe(items);
  });
});

describe('messageHref', () => {
  it('opens the conversation at the message (?m=), both parts escaped', () => {
    expect(messageHref('c1', 'm1')).toBe('/c/c1?m=m1');
    expect(messageHref('a/b', 'x&y')).toBe('/c/a%2Fb?m=x%26y');
  });
});
