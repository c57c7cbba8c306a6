import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthSession, Conversation, Message } from '@chat/shared/models/types';
import { allMessages, api, registerUser } from '../test/api.ts';
import { closeBus, eventually, recordBus } from '../test/bus.ts';
import { closeTestDb, createConversation } from '../test/db.ts';
import { nextEvent, request, socketPool, type ClientSocket } from '../test/socket.ts';

const pool = socketPool();
const open = (s: AuthSession, instance?: number) => pool.connect(s.accessToken, instance === undefined ? {} : { instance });
afterEach(() => pool.closeAll());
afterAll(() => Promise.all([closeTestDb(), closeBus()]));

let n = 0;
const cmid = () => `m-${Date.now()}-${n++}`;
const send = async (socket: ClientSocket, conversationId: string, body: string): Promise<Message> => {
  const ack = (await request(socket, 'message:send', { conversationId, clientMsgId: cmid(), body })) as { ok: boolean; message: Message };
  expect(ack.ok).toBe(true);
  return ack.message;
};
const stored = (s: AuthSession, conversationId: string, id: string, ok: (m: Message) => boolean = () => true) =>
  eventually(async () => (await allMessages(s.accessToken, conversationId)).find((m) => m.id === id && ok(m)), `message ${id} stored`);
const conversationOf = async (s: AuthSession, id: string): Promise<Conversation> => (await api('GET', `/api/db/conversations/${id}`, { token: s.accessToken })).body.conversation;

describe('@mentions', () => {
  let alice: AuthSession, bob: AuthSession, carol: AuthSession, outsider: AuthSession;
  let groupId: string;
  beforeAll(async () => {
    [alice, bob, carol, outsider] = await Promise.all([registerUser(), registerUser(), registerUser(), registerUser()]);
    groupId = (await createConversation('group', [alice.user.id, bob.user.id, carol.user.id], 'Mentions')).id;
  });

  it('resolves @username of members only, on the ack, to the others, in the event and in the store', async () => {
    const { events, stop } = await recordBus('message.created');
    const a = await open(alice, 0);
    const b = await open(bob, 1);
    const atBob = nextEvent(b, 'message:new');
    const body = `@${bob.user.username.toUpperCase()} ask @${outsider.user.username} and @${carol.user.username}. @nobody \`@${alice.user.username}\``;
    const message = await send(a, groupId, body);
    expect(message.mentions).toEqual([bob.user.id, carol.user.id]);
    expect((await atBob).message.mentions).toEqual([bob.user.id, carol.user.id]);
    const event = await eventually(async () => events.find((e) => e.message.id === message.id), 'the published event');
    expect(event.message.mentions).toEqual([bob.user.id, carol.user.id]);
    expect((await stored(carol, groupId, message.id)).mentions).toEqual([bob.user.id, carol.user.id]);
    await stop();
  });

  it('an edit resolves its mentions again, live and in the store', async () => {
    const a = await open(alice, 0);
    const b = await open(bob, 1);
    const message = await send(a, groupId, `hi @${bob.user.username}`);
    await stored(alice, groupId, message.id);
    const updated = nextEvent(b, 'message:updated', (p) => p.message.id === message.id);
    const ack = (await request(a, 'message:edit', { messageId: message.id, body: `sorry, I meant @${carol.user.username}` })) as { ok: boolean; message: Message };
    expect(ack.message.mentions).toEqual([carol.user.id]);
    expect((await updated).message.mentions).toEqual([carol.user.id]);
    expect((await stored(bob, groupId, message.id, (m) => m.editedAt !== null)).mentions).toEqual([carol.user.id]);
  });

  it('@here mentions the members connected now, not the sender or those offline', async () => {
    const a = await open(alice, 0);
    await open(bob, 1);
    const message = await send(a, groupId, 'standup in 5 @here');
    expect(message.mentions).toEqual([bob.user.id]);
  });

  it('counts unread mentions per member: others\' mentions after the read position, never one\'s own', async () => {
    const conv = await createConversation('group', [alice.user.id, bob.user.id, carol.user.id], 'Badge');
    const a = await open(alice, 0);
    const c = await open(carol, 1);
    const b = await open(bob, 0);
    const m1 = await send(a, conv.id, `@${bob.user.username} one`);
    await send(a, conv.id, 'plain');
    await send(c, conv.id, `@${bob.user.username} three`);
    const m4 = await send(b, conv.id, `note to self @${bob.user.username}, ping @${alice.user.username}`);
    await stored(bob, conv.id, m4.id);
    const counts = async (s: AuthSession) => {
      const x = await conversationOf(s, conv.id);
      return [x.unreadCount, x.unreadMentionCount];
    };
    expect(await eventually(async () => ((await counts(bob))[0] === 3 ? counts(bob) : undefined), 'counters written')).toEqual([3, 2]);
    expect(await counts(alice)).toEqual([2, 1]);
    const list = (await api('GET', '/api/db/conversations', { token: bob.accessToken })).body.conversations as Conversation[];
    expect(list.find((x) => x.id === conv.id)?.unreadMentionCount).toBe(2);
    // Reading up to an older message leaves the mentions after it.
    expect((await api('POST', `/api/db/conversations/${conv.id}/read`, { token: bob.accessToken, body: { messageId: m1.id } })).status).toBe(204);
    expect(await counts(bob)).toEqual([2, 1]);
    expect((await api('POST', `/api/db/conversations/${conv.id}/read`, { token: bob.accessToken, body: { messageId: m4.id } })).status).toBe(204);
    expect(await counts(bob)).toEqual([0, 0]);
    expect(await counts(carol)).toEqual([3, 0]);
  });
});
