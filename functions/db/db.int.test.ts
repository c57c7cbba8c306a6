import type { ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTOR_SECRET_HEADER, DEAD_LETTER_QUEUE, EXCHANGE } from '@chat/shared/events/bus';
import type { Conversation, Message } from '@chat/shared/models/types';
import { connectorSecret, api, registerUser, uniqueName } from '../../test/api.ts';
import { busChannel, closeBus, eventually, makeMessage, publishEvents, publishRaw } from '../../test/bus.ts';
import { closeTestDb, createConversation, testDb } from '../../test/db.ts';
import { sentAgo } from '../../test/fixtures.ts';

const D = '/api/db';
type Session = Awaited<ReturnType<typeof registerUser>>;
let alice: Session, bob: Session, carol: Session, dave: Session;

const secret = connectorSecret;
const get = <T = any>(s: Session, p: string) => api<T>('GET', `${D}${p}`, { token: s.accessToken });
const post = <T = any>(s: Session, p: string, body?: unknown) => api<T>('POST', `${D}${p}`, { token: s.accessToken, body });
const del = (s: Session, p: string) => api('DELETE', `${D}${p}`, { token: s.accessToken });

async function group(owner: Session, members: Session[], title = 'g'): Promise<Conversation> {
  const res = await post(owner, '/conversations', { type: 'group', title, memberIds: members.map((m) => m.user.id) });
  expect(res.status).toBe(201);
  return res.body.conversation;
}

/**
 * A group arranged in the store, without the system message that one created through the API
 * has, for tests that count exactly what a history holds (functions/db/groups.int.test.ts covers
 * system messages).
 */
async function bareGroup(owner: Session, members: Session[], title = 'g'): Promise<Pick<Conversation, 'id'>> {
  const rec = await createConversation('group', [owner.user.id, ...members.map((m) => m.user.id)], title);
  return { id: rec.id };
}

/**
 * Publishes message.created events and waits until the connector has handled them all: every
 * message stored and the conversation's last message moved to the newest. The message insert
 * lands before the last-message write, so history alone can show them while the conversation
 * list still has the earlier order.
 */
async function send(conv: Pick<Conversation, 'id'>, from: Session, bodies: string[]): Promise<Message[]> {
  const messages = bodies.map((b) => makeMessage(conv.id, from.user.id, b));
  await publishEvents('message.created', messages.map((message) => ({ message })));
  const newest = messages.reduce((a, m) => (m.id > a ? m.id : a), '');
  await eventually(async () => {
    const res = await get(from, `/conversations/${conv.id}/messages?after=${'0'.repeat(24)}&limit=100`);
    const ids = new Set((res.body.messages as Message[]).map((m) => m.id));
    if (!messages.every((m) => ids.has(m.id))) return undefined;
    const last = (await get(from, `/conversations/${conv.id}`)).body.conversation?.lastMessage as Message | null;
    return last && last.id >= newest ? true : undefined;
  }, 'messages stored and the conversation moved');
  return messages;
}

const history = async (s: Session, convId: string, q = ''): Promise<{ messages: Message[]; hasMore: boolean }> => {
  const res = await get(s, `/conversations/${convId}/messages${q}`);
  expect(res.status).toBe(200);
  return res.body;
};

/** A private queue on the conversation events, to see what the function publishes. */
async function watchConversationEvents() {
  const ch = await busChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, EXCHANGE, 'conversation.#');
  const seen: Array<{ key: string; body: any }> = [];
  await ch.consume(queue, (m) => m && seen.push({ key: m.fields.routingKey, body: JSON.parse(m.content.toString()) }), { noAck: true });
  return {
    next: (pred: (e: { key: string; body: any }) => boolean) => eventually(async () => seen.find(pred), 'conversation event'),
    seen,
  };
}

beforeAll(async () => {
  [alice, bob, carol, dave] = await Promise.all([registerUser(uniqueName('al')), registerUser(uniqueName('bo')), registerUser(uniqueName('ca')), registerUser(uniqueName('da'))]);
});
afterAll(async () => {
  await closeBus();
  await closeTestDb();
});

describe('authentication', () => {
  it.each(['/users?q=a', '/conversations', '/search?q=x'])('GET %s without a token → 401', async (p) => {
    const res = await api('GET', `${D}${p}`);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });
  it('a forged token → 401', async () => {
    const res = await api('GET', `${D}/conversations`, { token: alice.accessToken.slice(0, -4) + 'AAAA' });
    expect(res.status).toBe(401);
  });
});

describe('GET /users', () => {
  it('finds users by prefix, case-insensitively, without secrets and without the caller', async () => {
    const res = await get(alice, `/users?q=${bob.user.username.slice(0, 6).toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.users).toContainEqual(bob.user);
    expect(JSON.stringify(res.body)).not.toMatch(/hash|password/i);
    const self = await get(alice, `/users?q=${alice.user.username}`);
    expect(self.body.users).toEqual([]);
  });
  it('answers at most 20 users; an empty prefix finds no one (it would read every user)', async () => {
    const res = await get(alice, '/users?q=u');
    expect(res.status).toBe(200);
    expect(res.body.users.length).toBeLessThanOrEqual(20);
    expect(res.body.users.length).toBeGreaterThan(0);
    expect((await get(alice, '/users?q=')).body.users).toEqual([]);
  });
  it('treats the prefix literally (no regex injection)', async () => {
    for (const q of ['.*', '(', '[a-z]', '\\']) {
      const res = await get(alice, `/users?q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      expect(res.body.users).toEqual([]);
    }
  });
  it('refuses operator-shaped and repeated parameters with 400', async () => {
    expect((await get(alice, '/users?q[$ne]=x')).status).toBe(400);
    expect((await get(alice, '/users?q=a&q=b')).status).toBe(400);
  });
});

describe('POST /conversations', () => {
  it('direct: 201 for a new pair, 200 with the same conversation from either side', async () => {
    const [x, y] = await Promise.all([registerUser(), registerUser()]);
    const first = await post(x, '/conversations', { type: 'direct', memberIds: [y.user.id] });
    expect(first.status).toBe(201);
    expect(first.body.conversation).toMatchObject({ type: 'direct', title: null, admins: [], lastMessage: null, unreadCount: 0 });
    expect(first.body.conversation.members).toEqual(expect.arrayContaining([x.user, y.user]));
    expect(first.body.conversation.members).toHaveLength(2);
    const again = await post(x, '/conversations', { type: 'direct', memberIds: [y.user.id] });
    const reverse = await post(y, '/conversations', { type: 'direct', memberIds: [x.user.id] });
    expect(again.status).toBe(200);
    expect(reverse.status).toBe(200);
    expect(again.body.conversation.id).toBe(first.body.conversation.id);
    expect(reverse.body.conversation.id).toBe(first.body.conversation.id);
  });

  it('direct: concurrent creation of one pair yields one conversation', async () => {
    const [x, y] = await Promise.all([registerUser(), registerUser()]);
    const all = await Promise.all(Array.from({ length: 5 }, () => post(x, '/conversations', { type: 'direct', memberIds: [y.user.id] })));
    expect(new Set(all.map((r) => r.body.conversation.id)).size).toBe(1);
    expect(all.filter((r) => r.status === 201)).toHaveLength(1);
  });

  it('group: 201; the creator is a member and the only admin; a conversation.created event follows', async () => {
    const events = await watchConversationEvents();
    const res = await post(alice, '/conversations', { type: 'group', title: '  Team  ', memberIds: [bob.user.id, carol.user.id, bob.user.id] });
    expect(res.status).toBe(201);
    const c = res.body.conversation as Conversation;
    expect(c).toMatchObject({ type: 'group', title: 'Team', admins: [alice.user.id], lastMessage: null, unreadCount: 0 });
    expect(c.members.map((m) => m.id).sort()).toEqual([alice.user.id, bob.user.id, carol.user.id].sort());
    expect(c.members).toContainEqual(bob.user);
    const e = await events.next((x) => x.key === 'conversation.created' && x.body.conversationId === c.id);
    expect(e.body.memberIds.sort()).toEqual([alice.user.id, bob.user.id, carol.user.id].sort());
  });

  it.each([
    ['direct with yourself', () => ({ type: 'direct', memberIds: [alice.user.id] })],
    ['direct with an unknown user', () => ({ type: 'direct', memberIds: ['65f000000000000000000000'] })],
    ['direct with two others', () => ({ type: 'direct', memberIds: [bob.user.id, carol.user.id] })],
    ['group with an unknown member', () => ({ type: 'group', title: 'x', memberIds: [bob.user.id, '65f000000000000000000001'] })],
    ['group without a title', () => ({ type: 'group', memberIds: [bob.user.id] })],
    ['group with a blank title', () => ({ type: 'group', title: '   ', memberIds: [] })],
    ['an unknown type', () => ({ type: 'channel', memberIds: [] })],
    ['an operator as id', () => ({ type: 'direct', memberIds: [{ $gt: '' }] })],
    ['an extra key', () => ({ type: 'direct', memberIds: [bob.user.id], admins: [dave.user.id] })],
  ])('%s → 400 and nothing is created', async (_, body) => {
    const before = (await get(alice, '/conversations')).body.conversations.length;
    const res = await post(alice, '/conversations', body());
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect((await get(alice, '/conversations')).body.conversations.length).toBe(before);
  });

  it('non-JSON → 415, malformed JSON → 400', async () => {
    const text = await api('POST', `${D}/conversations`, { token: alice.accessToken, raw: 'x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    const bad = await api('POST', `${D}/conversations`, { token: alice.accessToken, raw: '{', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
  });
});

describe('GET /conversations and /conversations/:id', () => {
  it('lists the caller’s conversations, most recent activity first, with lastMessage and unreadCount', async () => {
    const [x, y, z] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    const older = await group(x, [y], 'older');
    const newer = await group(x, [z], 'newer');
    let list = (await get(x, '/conversations')).body.conversations as Conversation[];
    expect(list.map((c) => c.id)).toEqual([newer.id, older.id]);
    const [m] = await send(older, y, ['wake up']);
    list = (await get(x, '/conversations')).body.conversations;
    expect(list.map((c) => c.id)).toEqual([older.id, newer.id]);
    expect(list[0]!.lastMessage).toMatchObject({ id: m!.id, body: 'wake up', senderId: y.user.id });
    expect(list[0]!.unreadCount).toBe(1);
    expect(list[1]!.unreadCount).toBe(0);
    // y sent it: not unread for y; z is not in `older` at all
    const ys = (await get(y, '/conversations')).body.conversations as Conversation[];
    expect(ys.find((c) => c.id === older.id)!.unreadCount).toBe(0);
    expect(((await get(z, '/conversations')).body.conversations as Conversation[]).map((c) => c.id)).toEqual([newer.id]);
  });

  it('a member gets the conversation; an outsider and a made-up id get 404', async () => {
    const g = await group(alice, [bob]);
    const ok = await get(bob, `/conversations/${g.id}`);
    expect(ok.status).toBe(200);
    expect(ok.body.conversation.id).toBe(g.id);
    for (const p of [`/conversations/${g.id}`, '/conversations/65f000000000000000000000', '/conversations/not-an-id']) {
      const res = await get(dave, p);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });
});

describe('members', () => {
  it('an admin adds members (200, event); a non-admin member gets 403; an outsider 404', async () => {
    const events = await watchConversationEvents();
    const g = await group(alice, [bob]);
    const added = await post(alice, `/conversations/${g.id}/members`, { userIds: [carol.user.id] });
    expect(added.status).toBe(200);
    expect(added.body.conversation.members.map((m: { id: string }) => m.id)).toContain(carol.user.id);
    const e = await events.next((x) => x.key === 'conversation.members.changed' && x.body.conversationId === g.id);
    expect(e.body).toMatchObject({ added: [carol.user.id], removed: [] });
    expect(e.body.memberIds).toContain(carol.user.id);
    expect((await get(carol, `/conversations/${g.id}`)).status).toBe(200);

    const byMember = await post(bob, `/conversations/${g.id}/members`, { userIds: [dave.user.id] });
    expect(byMember.status).toBe(403);
    expect(byMember.body.error.code).toBe('forbidden');
    const byOutsider = await post(dave, `/conversations/${g.id}/members`, { userIds: [dave.user.id] });
    expect(byOutsider.status).toBe(404);
    expect((await get(dave, `/conversations/${g.id}`)).status).toBe(404);
  });

  it('unknown users or bad bodies → 400 and membership is unchanged; direct conversations take no members', async () => {
    const g = await group(alice, [bob]);
    for (const body of [{ userIds: ['65f000000000000000000009'] }, { userIds: [] }, { userIds: 'x' }, {}]) {
      expect((await post(alice, `/conversations/${g.id}/members`, body)).status).toBe(400);
    }
    expect((await get(alice, `/conversations/${g.id}`)).body.conversation.members).toHaveLength(2);
    const [x, y] = await Promise.all([registerUser(), registerUser()]);
    const direct = (await post(x, '/conversations', { type: 'direct', memberIds: [y.user.id] })).body.conversation;
    expect((await post(x, `/conversations/${direct.id}/members`, { userIds: [alice.user.id] })).status).toBe(400);
    expect((await get(alice, `/conversations/${direct.id}`)).status).toBe(404);
  });

  it('a member removes only themself; an admin removes anyone; removed members lose access (404)', async () => {
    const events = await watchConversationEvents();
    const g = await group(alice, [bob, carol]);
    const byMember = await del(bob, `/conversations/${g.id}/members/${carol.user.id}`);
    expect(byMember.status).toBe(403);
    expect((await get(carol, `/conversations/${g.id}`)).status).toBe(200);
    expect((await del(dave, `/conversations/${g.id}/members/${bob.user.id}`)).status).toBe(404);
    expect((await del(alice, `/conversations/${g.id}/members/${dave.user.id}`)).status).toBe(404);

    expect((await del(bob, `/conversations/${g.id}/members/${bob.user.id}`)).status).toBe(204);
    expect((await get(bob, `/conversations/${g.id}`)).status).toBe(404);
    expect((await del(alice, `/conversations/${g.id}/members/${carol.user.id}`)).status).toBe(204);
    expect((await get(carol, `/conversations/${g.id}`)).status).toBe(404);
    const left = await events.next((x) => x.key === 'conversation.members.changed' && x.body.conversationId === g.id && x.body.removed[0] === carol.user.id);
    expect(left.body.memberIds).toEqual([alice.user.id]);
    expect((await get(alice, `/conversations/${g.id}`)).body.conversation.members.map((m: { id: string }) => m.id)).toEqual([alice.user.id]);
  });

  it('when the last admin leaves, the longest-standing member becomes admin', async () => {
    const g = await group(alice, [bob, carol]);
    expect((await del(alice, `/conversations/${g.id}/members/${alice.user.id}`)).status).toBe(204);
    const c = (await get(bob, `/conversations/${g.id}`)).body.conversation as Conversation;
    expect(c.admins).toEqual([bob.user.id]);
    expect((await post(bob, `/conversations/${g.id}/members`, { userIds: [dave.user.id] })).status).toBe(200);
  });
});

describe('GET /conversations/:id/messages', () => {
  let g: Pick<Conversation, 'id'>;
  let sent: Message[];
  beforeAll(async () => {
    g = await bareGroup(alice, [bob], 'history');
    sent = await send(g, alice, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });

  it('pages backwards with before/limit, oldest first, with hasMore', async () => {
    const p1 = await history(bob, g.id, '?limit=3');
    expect(p1.messages.map((m) => m.body)).toEqual(['m4', 'm5', 'm6']);
    expect(p1.hasMore).toBe(true);
    const p2 = await history(bob, g.id, `?limit=3&before=${p1.messages[0]!.id}`);
    expect(p2.messages.map((m) => m.body)).toEqual(['m1', 'm2', 'm3']);
    expect(p2.hasMore).toBe(true);
    const p3 = await history(bob, g.id, `?limit=3&before=${p2.messages[0]!.id}`);
    expect(p3.messages.map((m) => m.body)).toEqual(['m0']);
    expect(p3.hasMore).toBe(false);
    const all = await history(bob, g.id);
    expect(all.messages.map((m) => m.id)).toEqual(sent.map((m) => m.id));
    expect(all.hasMore).toBe(false);
    expect(all.messages[0]).toEqual(sent[0]);
  });

  it('pages forwards with after (catch-up), oldest first', async () => {
    const a1 = await history(bob, g.id, `?after=${sent[1]!.id}&limit=2`);
    expect(a1.messages.map((m) => m.body)).toEqual(['m2', 'm3']);
    expect(a1.hasMore).toBe(true);
    const a2 = await history(bob, g.id, `?after=${sent[5]!.id}`);
    expect(a2.messages.map((m) => m.body)).toEqual(['m6']);
    expect(a2.hasMore).toBe(false);
  });

  it.each(['?limit=0', '?limit=101', '?limit=x', `?before=a&after=b`, '?before=$gt', '?sort=1'])('%s → 400', async (q) => {
    const res = await get(bob, `/conversations/${g.id}/messages${q}`);
    expect(res.status).toBe(400);
  });

  it('an outsider gets 404, not the messages', async () => {
    const res = await get(dave, `/conversations/${g.id}/messages`);
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain('m0');
  });
});

describe('POST /conversations/:id/read and unreadCount', () => {
  it('moves the read position forward only; unreadCount counts others’ messages after it', async () => {
    const g = await group(alice, [bob], 'reads');
    const ms = await send(g, alice, ['r0', 'r1', 'r2', 'r3', 'r4']);
    await send(g, bob, ['from bob']);
    const unread = async () => ((await get(bob, `/conversations/${g.id}`)).body.conversation as Conversation).unreadCount;
    expect(await unread()).toBe(5);
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: ms[2]!.id })).status).toBe(204);
    expect(await unread()).toBe(2);
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: ms[0]!.id })).status).toBe(204);
    expect(await unread()).toBe(2);
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: ms[4]!.id })).status).toBe(204);
    expect(await unread()).toBe(0);
    // alice's own messages never count for her; bob's one does until she reads it
    expect(((await get(alice, `/conversations/${g.id}`)).body.conversation as Conversation).unreadCount).toBe(1);
  });

  it('refuses messages of other conversations, unknown messages, outsiders and bad bodies; nothing moves', async () => {
    const g = await group(alice, [bob], 'reads2');
    const other = await group(carol, [bob], 'elsewhere');
    const [mine] = await send(g, alice, ['one']);
    const [foreign] = await send(other, carol, ['two']);
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: foreign!.id })).status).toBe(404);
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: 'ffffffffffffffffffffffff' })).status).toBe(404);
    expect((await post(dave, `/conversations/${g.id}/read`, { messageId: mine!.id })).status).toBe(404);
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: { $gt: '' } })).status).toBe(400);
    expect((await post(bob, `/conversations/${g.id}/read`, {})).status).toBe(400);
    expect(((await get(bob, `/conversations/${g.id}`)).body.conversation as Conversation).unreadCount).toBe(1);
  });
});

/** Publishes many messages at once and waits until the newest is the conversation's last one. */
async function sendMany(conv: Pick<Conversation, 'id'>, messages: Message[]): Promise<void> {
  await publishEvents('message.created', messages.map((message) => ({ message })));
  const newest = messages.reduce((a, m) => (m.id > a ? m.id : a), '');
  await eventually(async () => {
    const last = (await get(alice, `/conversations/${conv.id}`)).body.conversation?.lastMessage as Message | null;
    return last && last.id >= newest ? true : undefined;
  }, 'messages stored');
}

/** What the store holds about a message's chunk (the page boundaries these tests aim at). */
const chunkOf = async (id: string) => ((await (await testDb()).models.Message.findById(id).lean()) as { chunk?: number } | null)?.chunk;

describe('history in chunks (250 messages: chunks of 100, 100 and 50)', () => {
  let g: Pick<Conversation, 'id'>;
  let ms: Message[];
  let early: Message;
  beforeAll(async () => {
    g = await bareGroup(alice, [bob], 'long history');
    // Made first, so its id is the oldest; stored last, as a late redelivery would be. Sent a
    // minute ago (sentAgo): chunks then open at the id that opens them, 100 messages apart.
    early = makeMessage(g.id, bob.user.id, 'late but oldest', sentAgo(60_000));
    ms = Array.from({ length: 250 }, (_, i) => makeMessage(g.id, alice.user.id, `h${i}`, sentAgo(60_000)));
    await sendMany(g, ms);
  });
  const bodies = (p: { messages: Message[] }) => p.messages.map((m) => m.body);

  it('puts 100 messages in each chunk, in id order', async () => {
    expect(await Promise.all([ms[0], ms[99], ms[100], ms[199], ms[200], ms[249]].map((m) => chunkOf(m!.id)))).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('pages backwards across chunk edges with exact hasMore, and the pages add up to the history', async () => {
    const p1 = await history(bob, g.id, '?limit=100');
    expect(bodies(p1)).toEqual(ms.slice(150).map((m) => m.body));
    expect(p1.hasMore).toBe(true);
    const p2 = await history(bob, g.id, `?limit=100&before=${ms[150]!.id}`);
    expect(p2.messages.map((m) => m.id)).toEqual(ms.slice(50, 150).map((m) => m.id));
    expect(p2.hasMore).toBe(true);
    // A page that ends exactly on a chunk edge.
    const edge = await history(bob, g.id, `?limit=100&before=${ms[100]!.id}`);
    expect(edge.messages.map((m) => m.id)).toEqual(ms.slice(0, 100).map((m) => m.id));
    expect(edge.hasMore).toBe(false);
    const p3 = await history(bob, g.id, `?limit=100&before=${ms[50]!.id}`);
    expect(p3.messages).toHaveLength(50);
    expect(p3.hasMore).toBe(false);
  });

  it('pages forwards across chunk edges', async () => {
    const a = await history(bob, g.id, `?limit=1&after=${ms[99]!.id}`);
    expect(bodies(a)).toEqual(['h100']);
    expect(a.hasMore).toBe(true);
    const b = await history(bob, g.id, `?limit=100&after=${ms[149]!.id}`);
    expect(b.messages.map((m) => m.id)).toEqual(ms.slice(150).map((m) => m.id));
    expect(b.hasMore).toBe(false);
    // An id the store does not have (a message seen live, not stored yet) pages by id order.
    expect(await history(bob, g.id, `?after=${ms[249]!.id}0`)).toEqual({ messages: [], hasMore: false });
  });

  it('around= centres on a message across a chunk edge; unknown, foreign or combined anchors are refused', async () => {
    const res = await get(bob, `/conversations/${g.id}/messages?around=${ms[100]!.id}&limit=5`);
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: Message) => m.body)).toEqual(['h98', 'h99', 'h100', 'h101', 'h102']);
    expect([res.body.hasMoreBefore, res.body.hasMoreAfter]).toEqual([true, true]);
    expect(res.body.hasMore).toBeUndefined();
    const end = (await get(bob, `/conversations/${g.id}/messages?around=${ms[249]!.id}&limit=3`)).body;
    expect(end).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });
    expect(end.messages.map((m: Message) => m.body)).toEqual(['h247', 'h248', 'h249']);
    const other = await group(carol, [bob], 'other');
    const [foreign] = await send(other, carol, ['elsewhere']);
    for (const q of [`around=${foreign!.id}`, 'around=ffffffffffffffffffffffff']) {
      const r = await get(bob, `/conversations/${g.id}/messages?${q}`);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await get(bob, `/conversations/${g.id}/messages?around=${ms[1]!.id}&before=${ms[2]!.id}`)).status).toBe(400);
    expect((await get(dave, `/conversations/${g.id}/messages?around=${ms[1]!.id}`)).status).toBe(404);
  });

  it('a late message lands in its place by id: in the oldest chunk, and inside a closed one', async () => {
    // Just above h120 and below h121: a message of a closed chunk stored after that chunk closed.
    const between = makeMessage(g.id, bob.user.id, 'between h120 and h121', { id: `${ms[120]!.id}0` });
    await publishEvents('message.created', [{ message: early }, { message: between }]);
    await eventually(async () => ((await chunkOf(early.id)) === 0 && (await chunkOf(between.id)) === 1 ? true : undefined), 'late messages stored');
    const first = await history(bob, g.id, `?limit=2&before=${ms[1]!.id}`);
    expect(bodies(first)).toEqual(['late but oldest', 'h0']);
    expect(first.hasMore).toBe(false);
    const mid = await history(bob, g.id, `?limit=3&after=${ms[119]!.id}`);
    expect(bodies(mid)).toEqual(['h120', 'between h120 and h121', 'h121']);
  });

  it('a deleted message at a chunk edge stays in its place as a tombstone', async () => {
    await publishEvents('message.deleted', [{ messageId: ms[100]!.id, conversationId: g.id, deletedAt: new Date().toISOString(), deletedBy: alice.user.id }]);
    const p = await eventually(async () => {
      const page = await history(bob, g.id, `?limit=2&after=${ms[98]!.id}`);
      return page.messages[1]?.deletedAt ? page : undefined;
    }, 'delete applied');
    expect(p.messages.map((m) => [m.id, m.body])).toEqual([
      [ms[99]!.id, 'h99'],
      [ms[100]!.id, ''],
    ]);
    expect((await history(bob, g.id, `?limit=1&before=${ms[101]!.id}`)).messages[0]!.id).toBe(ms[100]!.id);
  });
});

describe('a conversation with a single message', () => {
  it('every page kind answers it alone', async () => {
    const g = await bareGroup(alice, [bob], 'single');
    const [m] = await send(g, alice, ['only']);
    expect(await history(bob, g.id)).toEqual({ messages: [m], hasMore: false });
    expect(await history(bob, g.id, `?before=${m!.id}`)).toEqual({ messages: [], hasMore: false });
    expect(await history(bob, g.id, `?after=${m!.id}`)).toEqual({ messages: [], hasMore: false });
    expect((await get(bob, `/conversations/${g.id}/messages?around=${m!.id}`)).body).toEqual({ messages: [m], hasMoreBefore: false, hasMoreAfter: false });
    const empty = await bareGroup(alice, [bob], 'empty');
    expect(await history(bob, empty.id)).toEqual({ messages: [], hasMore: false });
  });
});

describe('unread counters, read positions and notification levels', () => {
  const view = async (s: Session, id: string) => (await get(s, `/conversations/${id}`)).body.conversation as Conversation;

  it('count others’ messages after the position; edits change nothing; a delete counts until read past; own messages never', async () => {
    const g = await group(alice, [bob, carol], 'counters');
    const mine = await send(g, alice, ['a1', 'a2', 'a3']);
    await send(g, bob, ['b1', 'b2']);
    expect([(await view(alice, g.id)).unreadCount, (await view(bob, g.id)).unreadCount, (await view(carol, g.id)).unreadCount]).toEqual([2, 3, 5]);
    await publishEvents('message.updated', [{ kind: 'edit', messageId: mine[0]!.id, conversationId: g.id, body: 'a1 edited', editedAt: new Date().toISOString() }]);
    await publishEvents('message.deleted', [{ messageId: mine[1]!.id, conversationId: g.id, deletedAt: new Date().toISOString(), deletedBy: alice.user.id }]);
    await eventually(async () => ((await history(carol, g.id)).messages.find((m) => m.id === mine[1]!.id)?.deletedAt ? true : undefined), 'delete applied');
    expect((await view(carol, g.id)).unreadCount).toBe(5);
    expect((await post(carol, `/conversations/${g.id}/read`, { messageId: mine[2]!.id })).status).toBe(204);
    expect((await view(carol, g.id)).unreadCount).toBe(2);
    const [b3] = await send(g, bob, ['b3']);
    expect((await view(bob, g.id)).unreadCount).toBe(3);
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: b3!.id })).status).toBe(204);
    expect((await view(bob, g.id)).unreadCount).toBe(0);
    // Positions never move back, and every member's shows in the conversation.
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: mine[0]!.id })).status).toBe(204);
    const seen = await view(alice, g.id);
    expect(seen.readPositions).toEqual(expect.arrayContaining([{ userId: bob.user.id, messageId: b3!.id }, { userId: carol.user.id, messageId: mine[2]!.id }]));
    expect(seen.readPositions).toHaveLength(2);
    expect((await view(bob, g.id)).unreadCount).toBe(0);
  });

  it('the list reads each conversation’s counters: fifty unread conversations at once', async () => {
    const u = await registerUser(uniqueName('many'));
    const convs = await Promise.all(Array.from({ length: 5 }, (_, i) => group(alice, [u], `many${i}`)));
    await Promise.all(convs.map((c, i) => send(c, alice, Array.from({ length: i + 1 }, (_, k) => `x${k}`))));
    const list = (await get(u, '/conversations')).body.conversations as Conversation[];
    expect(new Map(list.map((c) => [c.id, c.unreadCount]))).toEqual(new Map(convs.map((c, i) => [c.id, i + 1])));
    expect(list.every((c) => c.notificationLevel === 'all' && Array.isArray(c.readPositions))).toBe(true);
  });

  it('notificationLevel: muted is none; a stored level wins; larger groups default to mentions', async () => {
    const people = await Promise.all(Array.from({ length: 10 }, () => registerUser()));
    const big = await group(alice, people, 'eleven people');
    const small = await group(alice, [bob], 'two people');
    const direct = (await post(alice, '/conversations', { type: 'direct', memberIds: [carol.user.id] })).body.conversation as Conversation;
    const prefs = (await testDb()).models.NotificationPreference;
    await prefs.create({ conversationId: small.id, userId: alice.user.id, muted: true, updatedAt: new Date() });
    await prefs.collection.insertOne({ conversationId: big.id, userId: people[0]!.user.id, muted: false, level: 'none', updatedAt: new Date() });
    expect((await view(alice, big.id)).notificationLevel).toBe('mentions');
    expect((await view(people[0]!, big.id)).notificationLevel).toBe('none');
    expect((await view(alice, small.id)).notificationLevel).toBe('none');
    expect((await view(bob, small.id)).notificationLevel).toBe('all');
    expect((await view(alice, direct.id)).notificationLevel).toBe('all');
  });
});

describe('read positions have one writer, and both paths tell the other members', () => {
  it('POST /read publishes conversation.read once the position moved, and not for a move backwards', async () => {
    const events = await watchConversationEvents();
    const g = await group(alice, [bob], 'read via http');
    const ms = await send(g, alice, ['r1', 'r2']);
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: ms[1]!.id })).status).toBe(204);
    const e = await events.next((x) => x.key === 'conversation.read' && x.body.conversationId === g.id);
    expect(e.body).toEqual({ conversationId: g.id, userId: bob.user.id, messageId: ms[1]!.id });
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: ms[0]!.id })).status).toBe(204);
    const [sentinel] = await send(g, alice, ['r3']);
    expect((await post(bob, `/conversations/${g.id}/read`, { messageId: sentinel!.id })).status).toBe(204);
    await events.next((x) => x.key === 'conversation.read' && x.body.messageId === sentinel!.id);
    expect(events.seen.filter((x) => x.key === 'conversation.read' && x.body.conversationId === g.id).map((x) => x.body.messageId)).toEqual([ms[1]!.id, sentinel!.id]);
  });

  it('message.read from the bus is applied the same way, and waits (redelivery) for a message not stored yet', async () => {
    const events = await watchConversationEvents();
    const g = await group(alice, [bob], 'read via bus');
    const later = makeMessage(g.id, alice.user.id, 'not stored yet');
    await publishEvents('message.read', [{ conversationId: g.id, userId: bob.user.id, messageId: later.id }]);
    await publishEvents('message.created', [{ message: later }]);
    const e = await events.next((x) => x.key === 'conversation.read' && x.body.conversationId === g.id);
    expect(e.body).toEqual({ conversationId: g.id, userId: bob.user.id, messageId: later.id });
    const v = (await get(bob, `/conversations/${g.id}`)).body.conversation as Conversation;
    expect(v.unreadCount).toBe(0);
    expect(v.readPositions).toEqual([{ userId: bob.user.id, messageId: later.id }]);
    // An outsider's read is dropped: nothing stored, nothing announced.
    await publishEvents('message.read', [{ conversationId: g.id, userId: dave.user.id, messageId: later.id }]);
    const [s2] = await send(g, alice, ['sentinel']);
    await publishEvents('message.read', [{ conversationId: g.id, userId: bob.user.id, messageId: s2!.id }]);
    await events.next((x) => x.key === 'conversation.read' && x.body.messageId === s2!.id);
    expect(events.seen.some((x) => x.key === 'conversation.read' && x.body.userId === dave.user.id)).toBe(false);
  });
});

describe('GET /search', () => {
  let mine: Conversation, theirs: Conversation;
  const tag = uniqueName('needle');
  beforeAll(async () => {
    mine = await group(alice, [bob], 'search');
    theirs = await group(carol, [dave], 'secret');
    await send(mine, alice, [`${tag} in mine`, `literal .* ${tag}`, `plain ${tag}x`, 'unrelated']);
    await send(theirs, carol, [`${tag} in theirs`]);
  });

  it('finds matches only in the caller’s conversations, case-insensitively', async () => {
    const res = await get(bob, `/search?q=${tag.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: Message) => m.body).sort()).toEqual([`${tag} in mine`, `literal .* ${tag}`, `plain ${tag}x`].sort());
    const carols = await get(carol, `/search?q=${tag}`);
    expect(carols.body.messages.map((m: Message) => m.body)).toEqual([`${tag} in theirs`]);
  });

  it('narrows to one conversation; a conversation the caller is not in is 404', async () => {
    const res = await get(alice, `/search?q=${tag}&conversationId=${mine.id}`);
    expect(res.body.messages).toHaveLength(3);
    expect((await get(alice, `/search?q=${tag}&conversationId=${theirs.id}`)).status).toBe(404);
  });

  it('never treats user input as a pattern: ".*" has no words and finds nothing', async () => {
    const res = await get(alice, `/search?q=${encodeURIComponent('.*')}&conversationId=${mine.id}`);
    expect(res.status).toBe(200);
    expect(res.body.messages).toEqual([]);
    const literal = await get(alice, `/search?q=${encodeURIComponent(`.* ${tag}`)}&conversationId=${mine.id}`);
    expect(literal.body.messages).toHaveLength(3);
    for (const q of ['(', '[', '\\', '^', '$where']) expect((await get(alice, `/search?q=${encodeURIComponent(q)}`)).status).toBe(200);
  });

  it.each(['', '?q=', '?q=%20%20', `?q=${'x'.repeat(201)}`, '?q[$regex]=.*', '?q=a&conversationId=$ne'])('%s → 400', async (q) => {
    expect((await get(alice, `/search${q}`)).status).toBe(400);
  });
});

describe('the event entry point (POST /function/db)', () => {
  const call = (body: unknown, headers: Record<string, string>) => api('POST', '/function/db', { body, headers });

  it('refuses calls without or with a wrong connector secret (401), and stores nothing', async () => {
    const g = await group(alice, [bob], 'forged');
    const m = makeMessage(g.id, alice.user.id, 'forged');
    expect((await call({ message: m }, { 'x-topic': 'message.created' })).status).toBe(401);
    expect((await call({ message: m }, { 'x-topic': 'message.created', [CONNECTOR_SECRET_HEADER]: 'guess' })).status).toBe(401);
    expect((await call([{ topic: 'message.created', event: { message: m } }], { 'x-batch': '1', [CONNECTOR_SECRET_HEADER]: '' })).status).toBe(401);
    expect((await history(alice, g.id)).messages).toEqual([]);
  });

  it('stores a redelivered message once; batches store all; unknown topics are ignored with 2xx', async () => {
    const g = await bareGroup(alice, [bob], 'direct-call');
    const s = { [CONNECTOR_SECRET_HEADER]: secret() };
    const m1 = makeMessage(g.id, alice.user.id, 'one');
    const m2 = makeMessage(g.id, bob.user.id, 'two');
    const first = await call({ message: m1 }, { ...s, 'x-topic': 'message.created' });
    expect(first.status).toBe(200);
    expect(first.body.stored).toBe(1);
    const again = await call({ message: m1 }, { ...s, 'x-topic': 'message.created' });
    expect(again.status).toBe(200);
    expect(again.body.stored).toBe(0);
    const batch = await call(
      [
        { topic: 'message.created', event: { message: m1 } },
        { topic: 'message.created', event: { message: m2 } },
        { topic: 'message.updated', event: { kind: 'edit', messageId: m1.id, conversationId: g.id, body: 'one (edited)', editedAt: new Date().toISOString() } },
        { topic: 'something.else', event: { whatever: true } },
      ],
      { ...s, 'x-batch': '1' },
    );
    expect(batch.status).toBe(200);
    expect(batch.body.stored).toBe(1);
    const h = await history(alice, g.id);
    expect(h.messages.map((m) => m.body)).toEqual(['one (edited)', 'two']);
    expect((await call({ x: 1 }, { ...s, 'x-topic': 'conversation.created' })).status).toBe(200);
  });

  it('answers 503 for an update of a message not stored yet, and 400 for a malformed event (nothing applied)', async () => {
    const g = await bareGroup(alice, [bob], 'early-update');
    const s = { [CONNECTOR_SECRET_HEADER]: secret() };
    const early = await call({ kind: 'edit', messageId: 'ffff00000000000000000000', conversationId: g.id, body: 'x', editedAt: new Date().toISOString() }, { ...s, 'x-topic': 'message.updated' });
    expect(early.status).toBe(503);
    const good = makeMessage(g.id, alice.user.id, 'good');
    const bad = await call(
      [
        { topic: 'message.created', event: { message: good } },
        { topic: 'message.created', event: { message: { id: 'x' } } },
      ],
      { ...s, 'x-batch': '1' },
    );
    expect(bad.status).toBe(400);
    expect((await call({ message: good }, { ...s })).status).toBe(400); // no X-Topic
    expect((await history(alice, g.id)).messages).toEqual([]);
  });
});

describe('through RabbitMQ and the connector', () => {
  it('stores a message published twice exactly once', async () => {
    const g = await bareGroup(alice, [bob], 'dupes');
    const m = makeMessage(g.id, alice.user.id, 'only once');
    await publishEvents('message.created', [{ message: m }, { message: m }]);
    // The connector calls the function concurrently, so a later publish may be stored first; the
    // redelivery below must come after the message is stored to test that it changes nothing.
    await eventually(async () => ((await history(alice, g.id)).messages.length > 0 ? true : undefined), 'first copy stored');
    await publishEvents('message.created', [{ message: { ...m, body: 'changed on redelivery' } }]);
    const [sentinel] = await send(g, bob, ['after the duplicates']);
    const h = await history(alice, g.id);
    expect(h.messages.map((x) => x.id)).toEqual([m.id, sentinel!.id]);
    expect(h.messages[0]!.body).toBe('only once');
  });

  it('a message whose (sender, clientMsgId) is stored under another id is announced as superseded; the kept one stays the last message, counted once', async () => {
    const g = await bareGroup(alice, [bob], 'superseded');
    const events = await watchConversationEvents();
    const kept = makeMessage(g.id, alice.user.id, 'first send', { clientMsgId: 'resent-1' });
    await publishEvents('message.created', [{ message: kept }]);
    await eventually(async () => ((await history(alice, g.id)).messages.length > 0 ? true : undefined), 'first copy stored');
    // The resend after the gateway lost its ledger: a newer id, the same pair.
    const dropped = makeMessage(g.id, alice.user.id, 'first send', { clientMsgId: 'resent-1' });
    await publishEvents('message.created', [{ message: dropped }]);
    const e = await events.next((x) => x.key === 'conversation.message.superseded' && x.body.messageId === dropped.id);
    expect(e.body).toEqual({ conversationId: g.id, messageId: dropped.id, message: kept });
    // A plain redelivery of the kept one is not announced.
    await publishEvents('message.created', [{ message: kept }]);
    const [sentinel] = await send(g, bob, ['after the resend']);
    expect((await history(alice, g.id)).messages.map((m) => m.id)).toEqual([kept.id, sentinel!.id]);
    expect(events.seen.filter((x) => x.key === 'conversation.message.superseded')).toHaveLength(1);
    // Counted once: bob's unread is the kept message (his own sentinel is not), alice's the sentinel.
    const conv = (await get(bob, `/conversations/${g.id}`)).body.conversation as Conversation;
    expect(conv.unreadCount).toBe(1);
    expect((await get(alice, `/conversations/${g.id}`)).body.conversation.unreadCount).toBe(1);
  });

  it('a superseded id, the newest the conversation was told of, never becomes its last message (it would read as none)', async () => {
    const g = await bareGroup(alice, [bob], 'superseded last');
    const events = await watchConversationEvents();
    const kept = makeMessage(g.id, alice.user.id, 'kept', { clientMsgId: 'resent-2' });
    await publishEvents('message.created', [{ message: kept }]);
    await eventually(async () => ((await get(bob, `/conversations/${g.id}`)).body.conversation?.lastMessage?.id === kept.id ? true : undefined), 'kept stored');
    const dropped = makeMessage(g.id, alice.user.id, 'kept', { clientMsgId: 'resent-2' });
    await publishEvents('message.created', [{ message: dropped }]);
    await events.next((x) => x.key === 'conversation.message.superseded' && x.body.messageId === dropped.id);
    const conv = (await get(bob, `/conversations/${g.id}`)).body.conversation as Conversation;
    expect(conv.lastMessage?.id).toBe(kept.id);
    expect(conv.unreadCount).toBe(1);
  });

  it('applies edits, reactions (idempotently) and deletes published as events', async () => {
    const g = await bareGroup(alice, [bob], 'updates');
    const [m] = await send(g, alice, ['original']);
    const base = { messageId: m!.id, conversationId: g.id };
    await publishEvents('message.updated', [
      { ...base, kind: 'edit', body: 'edited', editedAt: new Date().toISOString() },
      { ...base, kind: 'reaction', emoji: '👍', userId: bob.user.id, op: 'add' },
      { ...base, kind: 'reaction', emoji: '👍', userId: bob.user.id, op: 'add' },
      { ...base, kind: 'reaction', emoji: '🎉', userId: alice.user.id, op: 'add' },
      { ...base, kind: 'reaction', emoji: '🎉', userId: alice.user.id, op: 'remove' },
      // an older edit redelivered late must not win
      { ...base, kind: 'edit', body: 'stale', editedAt: new Date(Date.now() - 60_000).toISOString() },
    ]);
    const edited = await eventually(async () => {
      const [x] = (await history(bob, g.id)).messages;
      return x?.body === 'edited' && x.reactions.length === 1 && !x.reactions.some((r) => r.emoji === '🎉') ? x : undefined;
    }, 'edit and reactions applied');
    expect(edited.editedAt).not.toBeNull();
    expect(edited.reactions).toEqual([{ emoji: '👍', userIds: [bob.user.id] }]);

    await publishEvents('message.deleted', [{ ...base, deletedAt: new Date().toISOString(), deletedBy: alice.user.id }]);
    const gone = await eventually(async () => {
      const [x] = (await history(bob, g.id)).messages;
      return x?.deletedAt ? x : undefined;
    }, 'delete applied');
    expect(gone).toMatchObject({ id: m!.id, body: '', attachments: [] });
  });

  it('retries an update that arrives before its message, until the message is stored', async () => {
    const g = await bareGroup(alice, [bob], 'early');
    const m = makeMessage(g.id, alice.user.id, 'late arrival');
    await publishEvents('message.updated', [{ kind: 'edit', messageId: m.id, conversationId: g.id, body: 'edited before stored', editedAt: new Date(Date.now() + 1000).toISOString() }]);
    await publishEvents('message.created', [{ message: m }]);
    const x = await eventually(async () => {
      const [first] = (await history(alice, g.id)).messages;
      return first?.body === 'edited before stored' ? first : undefined;
    }, 'early edit applied after a retry');
    expect(x.id).toBe(m.id);
  });

  it('dead-letters an event the function keeps refusing, after retries, with headers naming why', async () => {
    const marker = uniqueName('poison');
    await publishRaw('message.created', [JSON.stringify({ message: { id: marker } })]);
    const ch = await busChannel();
    let resolveFound: (m: ConsumeMessage) => void;
    const arrived = new Promise<ConsumeMessage>((r) => (resolveFound = r));
    const { consumerTag } = await ch.consume(DEAD_LETTER_QUEUE, (msg) => {
      if (!msg) return;
      // Other subscribers of message.created (notification) dead-letter their own copy; take db's.
      if (msg.content.toString().includes(marker) && msg.properties.headers?.['x-chat-function'] === 'db') {
        ch.ack(msg);
        resolveFound(msg);
      } else ch.nack(msg, false, true);
    });
    const found = await eventually(() => Promise.race([arrived, new Promise<undefined>((r) => setTimeout(r, 200))]), 'the dead-lettered event', 30_000);
    await ch.cancel(consumerTag);
    expect(JSON.parse(found.content.toString())).toEqual({ message: { id: marker } });
    expect(found.properties.headers).toMatchObject({
      'x-chat-function': 'db',
      'x-chat-topic': 'message.created',
      'x-chat-attempts': 3,
      'x-chat-last-status': 400,
    });
    expect(found.properties.deliveryMode).toBe(2);
  });
});
