import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serverEventSchemas } from '@chat/shared/events/socket-schemas';
import type { AuthSession, Message } from '@chat/shared/models/types';
import { api, registerUser } from '../test/api.ts';
import { closeBus, eventually, makeMessage, publishEvents } from '../test/bus.ts';
import { closeTestDb, createConversation } from '../test/db.ts';
import { nextEvent, record, request, socketPool, type ClientSocket } from '../test/socket.ts';

/** Threads through the gateways: sends and refusals, live summaries, reads, edits and reactions. */
const pool = socketPool();
const open = (token: string, instance: number) => pool.connect(token, { instance });
afterEach(pool.closeAll);
afterAll(() => Promise.all([closeTestDb(), closeBus()]));

let n = 0;
const cmid = () => `t-${Date.now()}-${n++}`;

let alice: AuthSession, bob: AuthSession, carol: AuthSession, dave: AuthSession;
let convId: string;
let otherConvId: string;
beforeAll(async () => {
  [alice, bob, carol, dave] = await Promise.all([registerUser(), registerUser(), registerUser(), registerUser()]);
  convId = (await createConversation('group', [alice.user.id, bob.user.id, carol.user.id])).id;
  otherConvId = (await createConversation('group', [alice.user.id, dave.user.id])).id;
});

const send = async (s: ClientSocket, body: string, extra: Record<string, unknown> = {}, conversationId = convId) =>
  request(s, 'message:send', { conversationId, clientMsgId: cmid(), body, ...extra } as never);
const rootView = async (rootId: string, who = alice) => (await api('GET', `/api/db/conversations/${convId}/threads/${rootId}`, { token: who.accessToken })).body.thread;

describe('replying in a thread', () => {
  it('a reply reaches every member socket with threadRootId; the root summary follows as message:updated', async () => {
    const a = await open(alice.accessToken, 0);
    const b = await open(bob.accessToken, 1);
    const root = ((await send(a, 'root')) as { message: Message }).message;
    const replyAtBob = nextEvent(b, 'message:new', (p) => p.message.threadRootId === root.id);
    const summaryAtBob = nextEvent(b, 'message:updated', (p) => p.message.id === root.id && p.message.thread?.replyCount === 1);
    const summaryAtAlice = nextEvent(a, 'message:updated', (p) => p.message.id === root.id && p.message.thread?.replyCount === 1);
    const ack = await send(a, 'in the thread', { threadRootId: root.id });
    expect(ack).toMatchObject({ ok: true, message: { threadRootId: root.id, alsoToChannel: false, body: 'in the thread' } });
    expect((await replyAtBob).message).toEqual((ack as { message: Message }).message);
    const updated = (await summaryAtBob).message;
    expect(serverEventSchemas['message:updated'].payload.safeParse({ message: updated }).success).toBe(true);
    expect(updated).toMatchObject({ body: 'root', thread: { replyCount: 1, participantIds: [alice.user.id], lastReplyAt: (ack as { message: Message }).message.createdAt } });
    await summaryAtAlice;
  });

  it('refuses a reply to a reply, to another conversation’s message, to an unknown id and to a system message; nothing is stored', async () => {
    const a = await open(alice.accessToken, 0);
    const root = ((await send(a, 'root 2')) as { message: Message }).message;
    const first = ((await send(a, 'first reply', { threadRootId: root.id })) as { message: Message }).message;
    const foreign = ((await send(a, 'elsewhere', {}, otherConvId)) as { message: Message }).message;
    const system = makeMessage(convId, alice.user.id, '', { kind: 'system', system: { type: 'conversation_created', actorId: alice.user.id } });
    await publishEvents('message.created', [{ message: system }]);
    await eventually(async () => ((await rootView(root.id))?.root.thread?.replyCount === 1 ? true : undefined), 'first reply counted');
    const seen = record(a, 'message:new');
    for (const [threadRootId, why] of [
      [first.id, /reply/],
      [foreign.id, /no such message/],
      ['f'.repeat(24), /no such message/],
      [system.id, /system|no such message/],
    ] as const) {
      const res = await send(a, 'refused', { threadRootId });
      expect(res).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      expect((res as { error: { message: string } }).error.message).toMatch(why);
    }
    expect(await send(a, 'no thread', { alsoToChannel: true })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    // A later reply marks the point by which anything refused would have shown up.
    const marker = ((await send(a, 'marker', { threadRootId: root.id })) as { message: Message }).message;
    await eventually(async () => ((await rootView(root.id))?.root.thread?.replyCount === 2 ? true : undefined), 'marker counted');
    const page = (await api('GET', `/api/db/conversations/${convId}/threads/${root.id}/messages`, { token: alice.accessToken })).body;
    expect(page.messages.map((m: Message) => m.id)).toEqual([first.id, marker.id]);
    expect(seen).toEqual([]);
  });

  it('also to channel: the reply is in the main history and the thread', async () => {
    const a = await open(alice.accessToken, 0);
    const root = ((await send(a, 'root 3')) as { message: Message }).message;
    const loud = ((await send(a, 'loud', { threadRootId: root.id, alsoToChannel: true })) as { message: Message }).message;
    expect(loud).toMatchObject({ threadRootId: root.id, alsoToChannel: true });
    const h = await eventually(async () => {
      const r = (await api('GET', `/api/db/conversations/${convId}/messages?limit=5`, { token: bob.accessToken })).body;
      return r.messages.some((m: Message) => m.id === loud.id) ? r : undefined;
    }, 'the reply in the channel');
    expect(h.messages.at(-1)).toMatchObject({ id: loud.id, alsoToChannel: true });
  });
});

describe('root summaries under concurrent replies through two gateways', () => {
  it('counts every reply exactly once, with each participant', async () => {
    const a = await open(alice.accessToken, 0);
    const b = await open(bob.accessToken, 1);
    const c = await open(carol.accessToken, 0);
    const root = ((await send(a, 'busy root')) as { message: Message }).message;
    const finalAtBob = nextEvent(b, 'message:updated', (p) => p.message.id === root.id && p.message.thread?.replyCount === 30, 30_000);
    const acks = await Promise.all([a, b, c].flatMap((s, k) => Array.from({ length: 10 }, (_, i) => send(s, `r${k}-${i}`, { threadRootId: root.id }))));
    expect(acks.every((x) => x.ok)).toBe(true);
    const summary = (await finalAtBob).message.thread!;
    expect(summary.replyCount).toBe(30);
    expect(new Set(summary.participantIds)).toEqual(new Set([alice.user.id, bob.user.id, carol.user.id]));
    // Nothing more comes in: the stored count stays exact.
    const page = (await api('GET', `/api/db/conversations/${convId}/threads/${root.id}/messages?limit=100`, { token: carol.accessToken })).body;
    expect(page.messages).toHaveLength(30);
    expect(page.root.thread.replyCount).toBe(30);
  });
});

describe('reads, edits and reactions in a thread', () => {
  it('read with threadRootId moves the thread position and tells the room; a thread reply is no conversation position', async () => {
    const a = await open(alice.accessToken, 0);
    const b = await open(bob.accessToken, 1);
    const root = ((await send(a, 'read me')) as { message: Message }).message;
    const r1 = ((await send(a, 'unread reply', { threadRootId: root.id })) as { message: Message }).message;
    await eventually(async () => ((await rootView(root.id, bob))?.root.thread?.replyCount === 1 ? true : undefined), 'reply stored');
    await api('PUT', `/api/db/conversations/${convId}/threads/${root.id}/follow`, { token: bob.accessToken });
    const listed = (await api('GET', '/api/db/threads?unread=true', { token: bob.accessToken })).body.threads;
    expect(listed.find((t: { root: Message }) => t.root.id === root.id)).toMatchObject({ unreadCount: 1 });

    expect(await request(b, 'read', { conversationId: convId, messageId: r1.id })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await request(b, 'read', { conversationId: convId, messageId: root.id, threadRootId: root.id })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    const heard = nextEvent(a, 'read', (p) => p.userId === bob.user.id && p.threadRootId === root.id);
    expect(await request(b, 'read', { conversationId: convId, messageId: r1.id, threadRootId: root.id })).toEqual({ ok: true });
    expect(await heard).toEqual({ conversationId: convId, userId: bob.user.id, messageId: r1.id, threadRootId: root.id });
    const after = (await api('GET', '/api/db/threads?unread=true', { token: bob.accessToken })).body.threads;
    expect(after.map((t: { root: Message }) => t.root.id)).not.toContain(root.id);
  });

  it('edits, reactions and deletes work on replies, and a reaction on the root keeps its summary', async () => {
    const a = await open(alice.accessToken, 0);
    const b = await open(bob.accessToken, 1);
    const root = ((await send(a, 'react here')) as { message: Message }).message;
    const r = ((await send(b, 'typo', { threadRootId: root.id })) as { message: Message }).message;
    await eventually(async () => ((await rootView(root.id))?.root.thread?.replyCount === 1 ? true : undefined), 'reply stored');
    const edited = nextEvent(a, 'message:updated', (p) => p.message.id === r.id && p.message.body === 'fixed');
    expect(await request(b, 'message:edit', { messageId: r.id, body: 'fixed' })).toMatchObject({ ok: true, message: { threadRootId: root.id } });
    await edited;
    const reacted = await request(a, 'reaction:toggle', { messageId: r.id, emoji: '👍' });
    expect(reacted).toMatchObject({ ok: true, message: { threadRootId: root.id, reactions: [{ emoji: '👍', userIds: [alice.user.id] }] } });
    const onRoot = await request(b, 'reaction:toggle', { messageId: root.id, emoji: '🎉' });
    expect(onRoot).toMatchObject({ ok: true, message: { thread: { replyCount: 1 } } });
    const gone = nextEvent(a, 'message:deleted', (p) => p.messageId === r.id);
    expect(await request(b, 'message:delete', { messageId: r.id })).toEqual({ ok: true });
    await gone;
    const page = await eventually(async () => {
      const p = (await api('GET', `/api/db/conversations/${convId}/threads/${root.id}/messages`, { token: alice.accessToken })).body;
      return p.messages[0]?.deletedAt ? p : undefined;
    }, 'reply deleted');
    expect(page.messages[0]).toMatchObject({ id: r.id, body: '', reactions: [{ emoji: '👍' }] });
  });

  it('typing in a thread is told apart from typing in the conversation, and a reply stops it', async () => {
    const a = await open(alice.accessToken, 0);
    const b = await open(bob.accessToken, 1);
    const root = ((await send(a, 'typing root')) as { message: Message }).message;
    const started = nextEvent(b, 'typing', (p) => p.userId === alice.user.id && p.isTyping);
    expect(await request(a, 'typing', { conversationId: convId, isTyping: true, threadRootId: root.id })).toEqual({ ok: true });
    expect(await started).toEqual({ conversationId: convId, userId: alice.user.id, isTyping: true, threadRootId: root.id });
    const stopped = nextEvent(b, 'typing', (p) => p.userId === alice.user.id && !p.isTyping);
    await send(a, 'typed', { threadRootId: root.id });
    expect(await stopped).toEqual({ conversationId: convId, userId: alice.user.id, isTyping: false, threadRootId: root.id });
  });
});
