import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, Message } from '@chat/shared/models/types';
import { api, deliverToDb, registerUser, storeMessages, uniqueName } from '../../test/api.ts';
import { eventually } from '../../test/bus.ts';
import { closeTestDb, createConversation, testDb } from '../../test/db.ts';
import { makeMessage } from '../../test/fixtures.ts';

/**
 * GET /conversations from the records' copies of their last messages and the read positions'
 * audiences (docs/storage.md): what the list shows must be what history shows, after every
 * change of a last message, and the records without either (older data) must read the same.
 */
const D = '/api/db';
type Session = Awaited<ReturnType<typeof registerUser>>;
let alice: Session, bob: Session, carol: Session;

const list = async (s: Session): Promise<Conversation[]> => {
  const res = await api<{ conversations: Conversation[] }>('GET', `${D}/conversations`, { token: s.accessToken });
  expect(res.status).toBe(200);
  return res.body.conversations;
};
const inList = async (s: Session, id: string) => (await list(s)).find((c) => c.id === id)!;
const newestInHistory = async (s: Session, id: string): Promise<Message> =>
  (await api<{ messages: Message[] }>('GET', `${D}/conversations/${id}/messages?limit=1`, { token: s.accessToken })).body.messages.at(-1)!;
const record = async (id: string) => (await testDb()).models.Conversation.findById(id).lean<{ lastMessageId: string; lastMessage?: string; lastMessageRev?: number; readsByAudience?: boolean }>();
const read = (s: Session, convId: string, messageId: string) => api('POST', `${D}/conversations/${convId}/read`, { token: s.accessToken, body: { messageId } });
const edit = (m: Message, body: string) => deliverToDb([{ topic: 'message.updated', event: { kind: 'edit', messageId: m.id, conversationId: m.conversationId, body, editedAt: new Date().toISOString() } }]);
const react = (m: Message, userId: string, op: 'add' | 'remove') =>
  deliverToDb([{ topic: 'message.updated', event: { kind: 'reaction', messageId: m.id, conversationId: m.conversationId, emoji: '👍', userId, op } }]);

beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([registerUser(uniqueName('la')), registerUser(uniqueName('lb')), registerUser(uniqueName('lc'))]);
});
afterAll(closeTestDb);

describe('the last message in GET /conversations', () => {
  it('comes from the record’s copy, and every change of the last message reaches it', async () => {
    const c = await createConversation('group', [alice.user.id, bob.user.id], 'copies');
    const [older, last] = [makeMessage(c.id, bob.user.id, 'first'), makeMessage(c.id, bob.user.id, 'second')];
    await storeMessages([older!, last!]);
    const stored = await record(c.id);
    expect(JSON.parse(stored!.lastMessage!)).toMatchObject({ id: last!.id, body: 'second' });
    expect((await inList(alice, c.id)).lastMessage).toEqual(await newestInHistory(alice, c.id));

    await edit(last!, 'second, edited');
    await react(last!, alice.user.id, 'add');
    let shown = (await inList(alice, c.id)).lastMessage!;
    expect(shown).toMatchObject({ id: last!.id, body: 'second, edited', reactions: [{ emoji: '👍', userIds: [alice.user.id] }] });
    expect(shown).toEqual(await newestInHistory(alice, c.id));
    await react(last!, alice.user.id, 'remove');
    expect((await inList(alice, c.id)).lastMessage!.reactions).toEqual([]);

    // A change of an older message leaves the copy alone.
    await edit(older!, 'first, edited');
    expect((await inList(alice, c.id)).lastMessage).toMatchObject({ id: last!.id, body: 'second, edited' });

    await deliverToDb([{ topic: 'message.deleted', event: { messageId: last!.id, conversationId: c.id, deletedAt: new Date().toISOString(), deletedBy: bob.user.id } }]);
    shown = (await inList(bob, c.id)).lastMessage!;
    expect(shown).toMatchObject({ id: last!.id, body: '', attachments: [] });
    expect(shown.deletedAt).not.toBeNull();
    expect(shown).toEqual(await newestInHistory(bob, c.id));
  });

  it('a thread root that is the last message shows its moving summary; an also-to-channel reply becomes the last message', async () => {
    const c = await createConversation('group', [alice.user.id, bob.user.id], 'thread copies');
    const root = makeMessage(c.id, alice.user.id, 'root');
    await storeMessages([root]);
    await storeMessages([makeMessage(c.id, bob.user.id, 'in the thread', { threadRootId: root.id })]);
    const shown = (await inList(alice, c.id)).lastMessage!;
    expect(shown.id).toBe(root.id);
    expect(shown.thread).toMatchObject({ replyCount: 1, participantIds: [bob.user.id] });
    expect(shown).toEqual(await newestInHistory(alice, c.id));

    const loud = makeMessage(c.id, bob.user.id, 'to the channel too', { threadRootId: root.id, alsoToChannel: true });
    await storeMessages([loud]);
    expect((await inList(alice, c.id)).lastMessage).toMatchObject({ id: loud.id, alsoToChannel: true });
    await edit(loud, 'to the channel too, edited');
    expect((await inList(alice, c.id)).lastMessage).toEqual(await newestInHistory(alice, c.id));
    expect((await inList(alice, c.id)).lastMessage!.body).toBe('to the channel too, edited');
  });

  it('a record without a copy (older data) or with one that fell behind reads the message by _id', async () => {
    const c = await createConversation('direct', [alice.user.id, carol.user.id]);
    const [a, b] = [makeMessage(c.id, carol.user.id, 'one'), makeMessage(c.id, carol.user.id, 'two')];
    await storeMessages([a!, b!]);
    const { Conversation: Conv } = (await testDb()).models;
    await Conv.updateOne({ _id: c.id }, { $unset: { lastMessage: 1, lastMessageRev: 1 } });
    expect((await inList(alice, c.id)).lastMessage).toMatchObject({ id: b!.id, body: 'two' });
    // A copy of another message than lastMessageId is never shown.
    await Conv.updateOne({ _id: c.id }, { $set: { lastMessage: JSON.stringify({ ...a, body: 'stale' }), lastMessageRev: 0 } });
    expect((await inList(alice, c.id)).lastMessage).toMatchObject({ id: b!.id, body: 'two' });
    // The next change of the last message heals nothing it should not: the stale copy stays unused.
    await edit(b!, 'two, edited');
    expect((await inList(alice, c.id)).lastMessage).toMatchObject({ id: b!.id, body: 'two, edited' });
  });

  it('an edit of a message whose batch has not reached its conversation yet is delivered again (503), then lands', async () => {
    const c = await createConversation('group', [alice.user.id, bob.user.id], 'behind');
    const m = makeMessage(c.id, bob.user.id, 'early');
    await storeMessages([m]);
    // As between a batch's insert and its conversation write: the message is stored, the record is not there yet.
    const { Conversation: Conv } = (await testDb()).models;
    await Conv.updateOne({ _id: c.id }, { $set: { lastMessageId: null }, $unset: { lastMessage: 1, lastMessageRev: 1 } });
    await expect(edit(m, 'early, edited')).rejects.toThrow(/503/);
    await storeMessages([m]);
    await edit(m, 'early, edited');
    expect((await inList(alice, c.id)).lastMessage).toMatchObject({ id: m.id, body: 'early, edited' });
  });
});

describe('read positions in GET /conversations', () => {
  it('come from one audience read, and a group that took a member in reads its own, with exact unread counts', async () => {
    const dave = await registerUser(uniqueName('ld'));
    const direct = await createConversation('direct', [dave.user.id, bob.user.id]);
    const grown = (await api('POST', `${D}/conversations`, { token: alice.accessToken, body: { type: 'group', title: 'grows', memberIds: [bob.user.id] } })).body.conversation as Conversation;
    const ms = [makeMessage(direct.id, bob.user.id, 'd1'), makeMessage(direct.id, bob.user.id, 'd2'), makeMessage(direct.id, dave.user.id, 'mine')];
    const gs = [makeMessage(grown.id, bob.user.id, 'g1'), makeMessage(grown.id, alice.user.id, 'g2'), makeMessage(grown.id, bob.user.id, 'g3')];
    await storeMessages([...ms, ...gs]);
    expect((await read(bob, direct.id, ms[1]!.id)).status).toBe(204);
    expect((await read(bob, grown.id, gs[2]!.id)).status).toBe(204);
    expect((await read(alice, grown.id, gs[0]!.id)).status).toBe(204);
    expect((await record(direct.id))!.readsByAudience).toBe(true);

    // Dave joins after bob and alice read: their positions do not list him, so the group stops using audiences.
    expect((await api('POST', `${D}/conversations/${grown.id}/members`, { token: alice.accessToken, body: { userIds: [dave.user.id] } })).status).toBe(200);
    expect((await record(grown.id))!.readsByAudience).toBe(false);
    const mine = await eventually(async () => {
      const l = await list(dave);
      return l.length === 2 && l.every((c) => c.lastMessage) ? l : undefined;
    }, 'both conversations listed with their last messages');
    const d = mine.find((c) => c.id === direct.id)!;
    const g = mine.find((c) => c.id === grown.id)!;
    expect(d.readPositions).toEqual([{ userId: bob.user.id, messageId: ms[1]!.id }]);
    // Own messages are never unread: d1 and d2 are, 'mine' is not.
    expect(d.unreadCount).toBe(2);
    expect(g.readPositions).toEqual(expect.arrayContaining([{ userId: bob.user.id, messageId: gs[2]!.id }, { userId: alice.user.id, messageId: gs[0]!.id }]));
    expect(g.readPositions).toHaveLength(2);

    // The audience read gives the same answer as a read per conversation, for the other members too.
    const bobs = await list(bob);
    expect(bobs.find((c) => c.id === direct.id)!.readPositions).toEqual([{ userId: bob.user.id, messageId: ms[1]!.id }]);
    expect(bobs.find((c) => c.id === direct.id)!.unreadCount).toBe(1);
    expect((await read(dave, direct.id, ms[2]!.id)).status).toBe(204);
    const after = (await list(bob)).find((c) => c.id === direct.id)!;
    expect(after.readPositions).toEqual(expect.arrayContaining([{ userId: bob.user.id, messageId: ms[1]!.id }, { userId: dave.user.id, messageId: ms[2]!.id }]));
    // A position never moves back.
    expect((await read(dave, direct.id, ms[0]!.id)).status).toBe(204);
    expect((await list(dave)).find((c) => c.id === direct.id)!).toMatchObject({ unreadCount: 0 });
  });
});
