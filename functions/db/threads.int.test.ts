import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, Message, ThreadView } from '@chat/shared/models/types';
import { api, registerUser, uniqueName } from '../../test/api.ts';
import { closeBus, eventually, makeMessage, publishEvents, recordBus } from '../../test/bus.ts';
import { closeTestDb, testDb } from '../../test/db.ts';

/**
 * Threads in the db function, fed through the bus as the gateways feed it: replies in their own
 * chunked stream, root summaries, follows, thread read positions and the unread counts.
 */
const D = '/api/db';
type Session = Awaited<ReturnType<typeof registerUser>>;
let alice: Session, bob: Session, carol: Session, dave: Session;

const call = <T = any>(method: string, s: Session, p: string, body?: unknown) => api<T>(method, `${D}${p}`, { token: s.accessToken, body });
const get = <T = any>(s: Session, p: string) => call<T>('GET', s, p);

async function group(owner: Session, members: Session[], title = 'threads'): Promise<Conversation> {
  const res = await call('POST', owner, '/conversations', { type: 'group', title, memberIds: members.map((m) => m.user.id) });
  expect(res.status).toBe(201);
  return res.body.conversation;
}

const root = async (s: Session, convId: string, rootId: string): Promise<Message> => (await get(s, `/conversations/${convId}/threads/${rootId}`)).body.thread.root;

/** Publishes message.created events and waits until the root counts every reply among them. */
async function store(messages: Message[], rootId?: string, expectReplies?: number): Promise<void> {
  await publishEvents('message.created', messages.map((message) => ({ message })));
  const conv = messages[0]!.conversationId;
  await eventually(async () => {
    const stored = await Promise.all(messages.map((m) => testDbMessage(m.id)));
    if (stored.some((m) => !m)) return undefined;
    if (rootId === undefined) return true;
    return ((await root(alice, conv, rootId)).thread?.replyCount ?? 0) >= (expectReplies ?? 0) ? true : undefined;
  }, 'messages stored');
}
/** A conversation's history without its system messages (a group made through the API has one). */
const userMessages = (ms: Message[]) => ms.filter((m) => m.kind === 'user');
const testDbMessage = async (id: string) => (await testDb()).models.Message.findById(id).lean();

const reply = (conv: Conversation, from: Session, rootId: string, body: string, extra: Partial<Message> = {}) => makeMessage(conv.id, from.user.id, body, { threadRootId: rootId, ...extra });
const page = async (s: Session, convId: string, rootId: string, q = '') => {
  const res = await get(s, `/conversations/${convId}/threads/${rootId}/messages${q}`);
  expect(res.status).toBe(200);
  return res.body as { root: Message; messages: Message[]; hasMore?: boolean; hasMoreBefore?: boolean; hasMoreAfter?: boolean };
};
const threads = async (s: Session, q = '?unread=true'): Promise<ThreadView[]> => {
  const res = await get(s, `/threads${q}`);
  expect(res.status).toBe(200);
  return res.body.threads;
};

beforeAll(async () => {
  [alice, bob, carol, dave] = await Promise.all([registerUser(uniqueName('al')), registerUser(uniqueName('bo')), registerUser(uniqueName('ca')), registerUser(uniqueName('da'))]);
});
afterAll(async () => {
  await closeBus();
  await closeTestDb();
});

describe('a thread of 250 replies (chunks of 100, 100 and 50)', () => {
  let g: Conversation;
  let top: Message;
  let rs: Message[];
  let after: Message;
  beforeAll(async () => {
    g = await group(alice, [bob, carol]);
    top = makeMessage(g.id, alice.user.id, 'the root');
    await store([top]);
    rs = Array.from({ length: 250 }, (_, i) => reply(g, i % 2 ? bob : carol, top.id, `r${i}`));
    // Two batches at once, as the connector's parallel calls would, then the whole lot again (a redelivery).
    await Promise.all([store(rs.slice(0, 130)), store(rs.slice(130))]);
    await store(rs, top.id, 250);
    after = makeMessage(g.id, bob.user.id, 'after the thread');
    await store([after]);
  });
  const ids = (ms: Message[]) => ms.map((m) => m.id);

  it('the root counts each reply once, with its participants and the last reply time', async () => {
    const r = await root(bob, g.id, top.id);
    expect(r.thread).toEqual({ replyCount: 250, lastReplyAt: rs[249]!.createdAt, participantIds: expect.arrayContaining([bob.user.id, carol.user.id]) });
    expect(r.thread!.participantIds).toHaveLength(2);
  });

  it('the conversation history holds top-level messages only', async () => {
    const h = (await get(bob, `/conversations/${g.id}/messages?limit=100`)).body;
    const shown = userMessages(h.messages);
    expect(ids(shown)).toEqual([top.id, after.id]);
    expect(shown[0]!.thread!.replyCount).toBe(250);
    // The replies are not counted in the conversation's unread either.
    expect((await get(carol, `/conversations/${g.id}`)).body.conversation.unreadCount).toBe(2);
  });

  it('pages backwards across chunk edges with exact hasMore, the root alongside', async () => {
    const p1 = await page(bob, g.id, top.id, '?limit=100');
    expect(p1.root.id).toBe(top.id);
    expect(ids(p1.messages)).toEqual(ids(rs.slice(150)));
    expect(p1.hasMore).toBe(true);
    const edge = await page(bob, g.id, top.id, `?limit=100&before=${rs[100]!.id}`);
    expect(ids(edge.messages)).toEqual(ids(rs.slice(0, 100)));
    expect(edge.hasMore).toBe(false);
    const p2 = await page(bob, g.id, top.id, `?limit=100&before=${rs[150]!.id}`);
    expect(ids(p2.messages)).toEqual(ids(rs.slice(50, 150)));
    expect(p2.hasMore).toBe(true);
  });

  it('pages forwards and around across chunk edges', async () => {
    const a = await page(bob, g.id, top.id, `?limit=2&after=${rs[98]!.id}`);
    expect(ids(a.messages)).toEqual(ids(rs.slice(99, 101)));
    expect(a.hasMore).toBe(true);
    const b = await page(bob, g.id, top.id, `?limit=100&after=${rs[199]!.id}`);
    expect(ids(b.messages)).toEqual(ids(rs.slice(200)));
    expect(b.hasMore).toBe(false);
    const c = await page(bob, g.id, top.id, `?limit=5&around=${rs[100]!.id}`);
    expect(ids(c.messages)).toEqual(ids(rs.slice(98, 103)));
    expect([c.hasMoreBefore, c.hasMoreAfter]).toEqual([true, true]);
    // around= names a reply of this thread, nothing else.
    expect((await get(bob, `/conversations/${g.id}/threads/${top.id}/messages?around=${after.id}`)).status).toBe(404);
  });

  it('outsiders, unknown roots and replies as roots get 404', async () => {
    for (const [s, p] of [
      [dave, `/conversations/${g.id}/threads/${top.id}/messages`],
      [dave, `/conversations/${g.id}/threads/${top.id}`],
      [bob, `/conversations/${g.id}/threads/${rs[0]!.id}/messages`],
      [bob, `/conversations/${g.id}/threads/${'f'.repeat(24)}/messages`],
    ] as const) {
      const res = await get(s, p);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect((await call('PUT', dave, `/conversations/${g.id}/threads/${top.id}/follow`)).status).toBe(404);
    expect((await call('POST', dave, `/conversations/${g.id}/threads/${top.id}/read`, { messageId: rs[0]!.id })).status).toBe(404);
  });

  it('a deleted root keeps its thread readable and shows as deleted', async () => {
    const g2 = await group(alice, [bob]);
    const r2 = makeMessage(g2.id, alice.user.id, 'soon gone');
    await store([r2]);
    const one = reply(g2, bob, r2.id, 'still here');
    await store([one], r2.id, 1);
    await publishEvents('message.deleted', [{ messageId: r2.id, conversationId: g2.id, deletedAt: new Date().toISOString(), deletedBy: alice.user.id }]);
    const p = await eventually(async () => {
      const x = await page(bob, g2.id, r2.id);
      return x.root.deletedAt ? x : undefined;
    }, 'the root deleted');
    expect(p.root).toMatchObject({ body: '', thread: { replyCount: 1 } });
    expect(ids(p.messages)).toEqual([one.id]);
  });
});

describe('also to channel', () => {
  it('a reply sent to the channel too is in both histories and counts in both unread counts', async () => {
    const g = await group(alice, [bob]);
    const top = makeMessage(g.id, alice.user.id, 'root');
    await store([top]);
    const quiet = reply(g, bob, top.id, 'thread only');
    const loud = reply(g, bob, top.id, 'to the channel too', { alsoToChannel: true });
    await store([quiet, loud], top.id, 2);
    const h = userMessages((await get(alice, `/conversations/${g.id}/messages`)).body.messages as Message[]);
    expect(h.map((m) => m.body)).toEqual(['root', 'to the channel too']);
    expect(h[1]).toMatchObject({ threadRootId: top.id, alsoToChannel: true });
    expect((await page(alice, g.id, top.id)).messages.map((m) => m.body)).toEqual(['thread only', 'to the channel too']);
    await eventually(async () => ((await get(alice, `/conversations/${g.id}`)).body.conversation.unreadCount === 1 ? true : undefined), 'conversation unread');
    // A thread-only reply is no position in the conversation.
    expect((await call('POST', alice, `/conversations/${g.id}/read`, { messageId: quiet.id })).status).toBe(404);
    expect((await get(alice, `/conversations/${g.id}/threads/${top.id}`)).body.thread).toMatchObject({ unreadCount: 2, following: true });
  });
});

describe('following, thread read positions and unread', () => {
  let g: Conversation;
  let top: Message;
  beforeAll(async () => {
    g = await group(alice, [bob, carol, dave]);
    top = makeMessage(g.id, alice.user.id, 'start here');
    await store([top]);
  });

  it('the root author follows on the first reply, repliers and the mentioned follow, others do not', async () => {
    const rootFollow = await eventually(async () => ((await get(alice, `/conversations/${g.id}/threads/${top.id}`)).body.thread ? true : undefined), 'thread view');
    expect(rootFollow).toBe(true);
    expect((await get(alice, `/conversations/${g.id}/threads/${top.id}`)).body.thread.following).toBe(false);
    await store([reply(g, bob, top.id, 'hi @ca', { mentions: [carol.user.id] })], top.id, 1);
    const view = async (s: Session) => (await get(s, `/conversations/${g.id}/threads/${top.id}`)).body.thread as ThreadView;
    await eventually(async () => ((await view(carol)).following ? true : undefined), 'carol follows');
    expect((await view(alice)).following).toBe(true);
    expect((await view(bob)).following).toBe(true);
    expect((await view(dave)).following).toBe(false);
    expect((await threads(dave)).map((t) => t.root.id)).not.toContain(top.id);
    const mine = (await threads(alice)).find((t) => t.root.id === top.id);
    expect(mine).toMatchObject({ conversationId: g.id, unreadCount: 1, following: true, lastReadId: null });
    // The replier has nothing unread of their own.
    expect((await threads(bob)).map((t) => t.root.id)).not.toContain(top.id);
  });

  it('thread read positions move forward only, separately from the conversation', async () => {
    const more = [reply(g, carol, top.id, 'one'), reply(g, carol, top.id, 'two'), reply(g, carol, top.id, 'three')];
    await store(more, top.id, 4);
    expect((await threads(bob)).find((t) => t.root.id === top.id)?.unreadCount).toBe(3);
    expect((await call('POST', bob, `/conversations/${g.id}/threads/${top.id}/read`, { messageId: more[1]!.id })).status).toBe(204);
    expect((await threads(bob)).find((t) => t.root.id === top.id)).toMatchObject({ unreadCount: 1, lastReadId: more[1]!.id });
    // Backwards changes nothing.
    expect((await call('POST', bob, `/conversations/${g.id}/threads/${top.id}/read`, { messageId: more[0]!.id })).status).toBe(204);
    expect((await threads(bob)).find((t) => t.root.id === top.id)?.lastReadId).toBe(more[1]!.id);
    await call('POST', bob, `/conversations/${g.id}/threads/${top.id}/read`, { messageId: more[2]!.id });
    expect((await threads(bob)).map((t) => t.root.id)).not.toContain(top.id);
    expect((await threads(bob, '')).find((t) => t.root.id === top.id)?.unreadCount).toBe(0);
    // The root is a message of the conversation, not a reply of the thread.
    expect((await call('POST', bob, `/conversations/${g.id}/threads/${top.id}/read`, { messageId: top.id })).status).toBe(404);
    // The conversation's own count holds the root only (bob never read the conversation).
    expect((await get(bob, `/conversations/${g.id}`)).body.conversation.unreadCount).toBe(1);
  });

  it('follow and unfollow by hand; a root author who unfollowed is not followed again by later replies', async () => {
    expect((await call('PUT', dave, `/conversations/${g.id}/threads/${top.id}/follow`)).status).toBe(204);
    expect((await threads(dave)).find((t) => t.root.id === top.id)?.unreadCount).toBe(4);
    expect((await call('DELETE', dave, `/conversations/${g.id}/threads/${top.id}/follow`)).status).toBe(204);
    expect((await threads(dave, '')).map((t) => t.root.id)).not.toContain(top.id);

    const other = makeMessage(g.id, dave.user.id, 'dave starts');
    await store([other]);
    expect((await call('DELETE', dave, `/conversations/${g.id}/threads/${other.id}/follow`)).status).toBe(204);
    await store([reply(g, bob, other.id, 'reply to dave')], other.id, 1);
    // The reply's follows are written after its counters: wait for bob's, then look at dave's.
    await eventually(async () => ((await get(bob, `/conversations/${g.id}/threads/${other.id}`)).body.thread.following ? true : undefined), 'bob follows');
    expect((await get(dave, `/conversations/${g.id}/threads/${other.id}`)).body.thread.following).toBe(false);
  });

  it('a thread read through the bus moves the position and is announced with threadRootId', async () => {
    const reads = await recordBus('conversation.read');
    const r = reply(g, carol, top.id, 'four');
    await store([r], top.id, 5);
    await publishEvents('message.read', [{ conversationId: g.id, userId: alice.user.id, messageId: r.id, threadRootId: top.id }]);
    const e = await eventually(async () => reads.events.find((x) => x.userId === alice.user.id && x.threadRootId), 'conversation.read');
    await reads.stop();
    expect(e).toEqual({ conversationId: g.id, userId: alice.user.id, messageId: r.id, threadRootId: top.id });
    expect((await get(alice, `/conversations/${g.id}/threads/${top.id}`)).body.thread).toMatchObject({ unreadCount: 0, lastReadId: r.id });
  });
});
