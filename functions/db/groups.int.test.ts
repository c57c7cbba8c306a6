import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTOR_SECRET_HEADER } from '@chat/shared/events/bus';
import type { Conversation, Message, SystemEvent } from '@chat/shared/models/types';
import { connectorSecret, allHistory as allMessages, api, registerUser, uniqueName } from '../../test/api.ts';
import { closeBus, eventually, makeMessage, publishEvents } from '../../test/bus.ts';
import { closeTestDb, testDb } from '../../test/db.ts';
import { connectAs, nextEvent, record, type ClientSocket } from '../../test/socket.ts';

const D = '/api/db';
type Session = Awaited<ReturnType<typeof registerUser>>;
let alice: Session, bob: Session, carol: Session, dave: Session;
const sockets: ClientSocket[] = [];

const secret = connectorSecret;
const get = <T = any>(s: Session, p: string) => api<T>('GET', `${D}${p}`, { token: s.accessToken });
const call = (method: string, s: Session, p: string, body?: unknown) => api(method, `${D}${p}`, { token: s.accessToken, body });
const rename = (s: Session, id: string, title: unknown) => call('PATCH', s, `/conversations/${id}`, { title });

async function group(owner: Session, members: Session[], title = 'Team'): Promise<Conversation> {
  const res = await call('POST', owner, '/conversations', { type: 'group', title, memberIds: members.map((m) => m.user.id) });
  expect(res.status).toBe(201);
  return res.body.conversation;
}

const systemOf = (messages: Message[]) => messages.filter((m) => m.kind === 'system').map((m) => m.system!);
/** The system events stored, once `expected` many are (they are stored by the connector, a few ms later). */
const storedSystem = (s: Session, id: string, expected: number) =>
  eventually(async () => {
    const events = systemOf(await allMessages(s.accessToken, id));
    return events.length >= expected ? events : undefined;
  }, `${expected} system messages stored`);

const conversation = async (s: Session, id: string): Promise<Conversation> => (await get(s, `/conversations/${id}`)).body.conversation;

beforeAll(async () => {
  [alice, bob, carol, dave] = await Promise.all([registerUser(uniqueName('al')), registerUser(uniqueName('bo')), registerUser(uniqueName('ca')), registerUser(uniqueName('da'))]);
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await closeBus();
  await closeTestDb();
});

describe('PATCH /conversations/:id {title}', () => {
  it('an admin renames the group: 200 {conversation}, members get conversation:updated and the system message live', async () => {
    const g = await group(alice, [bob]);
    const bobSocket = await connectAs(bob.accessToken);
    sockets.push(bobSocket);
    const updated = nextEvent(bobSocket, 'conversation:updated', (p) => p.conversation.id === g.id);
    const live = nextEvent(bobSocket, 'message:new', (p) => p.message.conversationId === g.id && p.message.system?.type === 'renamed');

    const res = await rename(alice, g.id, '  Launch crew  ');
    expect(res.status).toBe(200);
    expect(res.body.conversation).toMatchObject({ id: g.id, title: 'Launch crew' });
    expect((await updated).conversation.title).toBe('Launch crew');
    const message = (await live).message;
    expect(message).toMatchObject({ kind: 'system', senderId: alice.user.id, body: '', system: { type: 'renamed', actorId: alice.user.id, title: 'Launch crew', previousTitle: 'Team' } });
    expect((await conversation(bob, g.id)).title).toBe('Launch crew');
    // Stored through the message pipeline, in order after the creation record.
    expect(await storedSystem(bob, g.id, 2)).toEqual([
      { type: 'conversation_created', actorId: alice.user.id },
      { type: 'renamed', actorId: alice.user.id, title: 'Launch crew', previousTitle: 'Team' },
    ]);
  });

  it('a plain member gets 403, an outsider 404, a direct conversation 400; nothing changes', async () => {
    const g = await group(alice, [bob]);
    const byMember = await rename(bob, g.id, 'Mine');
    expect(byMember.status).toBe(403);
    expect(byMember.body.error.code).toBe('forbidden');
    const byOutsider = await rename(dave, g.id, 'Mine');
    expect(byOutsider.status).toBe(404);
    expect(byOutsider.body.error.code).toBe('not_found');
    expect((await rename(alice, '65f000000000000000000000', 'X')).status).toBe(404);
    const direct = (await call('POST', alice, '/conversations', { type: 'direct', memberIds: [carol.user.id] })).body.conversation as Conversation;
    const d = await rename(alice, direct.id, 'Us');
    expect(d.status).toBe(400);
    expect(d.body.error.code).toBe('invalid_request');
    expect((await conversation(alice, g.id)).title).toBe('Team');
    expect((await conversation(alice, direct.id)).title).toBeNull();
  });

  it.each([[''], ['   '], ['x'.repeat(129)], [42], [null]])('bad title %j → 400 invalid_request, title unchanged', async (title) => {
    const g = await group(alice, [bob]);
    const res = await rename(alice, g.id, title);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
    expect((await conversation(alice, g.id)).title).toBe('Team');
  });

  it('refuses unknown fields (400) and a body without a title', async () => {
    const g = await group(alice, [bob]);
    expect((await call('PATCH', alice, `/conversations/${g.id}`, { title: 'A', type: 'direct' })).status).toBe(400);
    expect((await call('PATCH', alice, `/conversations/${g.id}`, {})).status).toBe(400);
  });

  it('a retried rename stores one system message, and system messages never count as unread', async () => {
    const g = await group(alice, [bob]);
    const m = makeMessage(g.id, alice.user.id, 'hello');
    await publishEvents('message.created', [{ message: m }]);
    await eventually(async () => ((await conversation(bob, g.id)).unreadCount === 1 ? true : undefined), 'the user message counted');
    const [a, b] = await Promise.all([rename(alice, g.id, 'Retried'), rename(alice, g.id, 'Retried')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await rename(alice, g.id, 'Retried')).status).toBe(200);
    // One more change after them, so "everything before it is stored" can be awaited.
    expect((await rename(alice, g.id, 'Final')).status).toBe(200);
    const events = await storedSystem(bob, g.id, 3);
    expect(events.filter((e) => e.type === 'renamed').map((e) => (e as { title: string }).title)).toEqual(['Retried', 'Final']);
    const c = await conversation(bob, g.id);
    expect(c.lastMessage?.kind).toBe('system');
    expect(c.unreadCount).toBe(1);
    // Reading the system message (the newest) leaves nothing unread; a new user message counts one.
    expect((await call('POST', bob, `/conversations/${g.id}/read`, { messageId: c.lastMessage!.id })).status).toBe(204);
    expect((await conversation(bob, g.id)).unreadCount).toBe(0);
    expect((await conversation(alice, g.id)).unreadCount).toBe(0);
  });
});

describe('admins', () => {
  it('an admin promotes and demotes; members see conversation:updated; the last admin cannot be demoted (409)', async () => {
    const g = await group(alice, [bob, carol]);
    const carolSocket = await connectAs(carol.accessToken);
    sockets.push(carolSocket);
    const updates = record(carolSocket, 'conversation:updated');

    const up = await call('PUT', alice, `/conversations/${g.id}/admins/${bob.user.id}`);
    expect(up.status).toBe(200);
    expect(up.body.conversation.admins).toEqual([alice.user.id, bob.user.id]);
    await eventually(async () => (updates.some((u) => u.conversation.admins.includes(bob.user.id)) ? true : undefined), 'carol sees bob promoted');
    // Idempotent: promoting again changes and records nothing.
    expect((await call('PUT', alice, `/conversations/${g.id}/admins/${bob.user.id}`)).body.conversation.admins).toEqual([alice.user.id, bob.user.id]);

    // The new admin demotes the old one; then the last admin cannot demote themself.
    const down = await call('DELETE', bob, `/conversations/${g.id}/admins/${alice.user.id}`);
    expect(down.status).toBe(200);
    expect(down.body.conversation.admins).toEqual([bob.user.id]);
    const last = await call('DELETE', bob, `/conversations/${g.id}/admins/${bob.user.id}`);
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe('conflict');
    expect(await storedSystem(carol, g.id, 3)).toEqual([
      { type: 'conversation_created', actorId: alice.user.id },
      { type: 'admin_added', actorId: alice.user.id, userId: bob.user.id },
      { type: 'admin_removed', actorId: bob.user.id, userId: alice.user.id },
    ]);
  });

  it('a plain member gets 403, an outsider 404, a non-member target 404, a direct conversation 400', async () => {
    const g = await group(alice, [bob]);
    for (const method of ['PUT', 'DELETE']) {
      expect((await call(method, bob, `/conversations/${g.id}/admins/${bob.user.id}`)).status).toBe(403);
      expect((await call(method, dave, `/conversations/${g.id}/admins/${dave.user.id}`)).status).toBe(404);
      const target = await call(method, alice, `/conversations/${g.id}/admins/${dave.user.id}`);
      expect(target.status).toBe(404);
      expect(target.body.error.code).toBe('not_found');
    }
    const direct = (await call('POST', bob, '/conversations', { type: 'direct', memberIds: [dave.user.id] })).body.conversation as Conversation;
    expect((await call('PUT', bob, `/conversations/${direct.id}/admins/${dave.user.id}`)).status).toBe(400);
    expect((await conversation(alice, g.id)).admins).toEqual([alice.user.id]);
  });
});

describe('system messages of membership', () => {
  it('record who added, removed and left, and the heir of a last admin, in order', async () => {
    const g = await group(alice, [bob]);
    expect((await call('POST', alice, `/conversations/${g.id}/members`, { userIds: [carol.user.id, dave.user.id] })).status).toBe(200);
    expect((await call('DELETE', alice, `/conversations/${g.id}/members/${dave.user.id}`)).status).toBe(204);
    expect((await call('DELETE', carol, `/conversations/${g.id}/members/${carol.user.id}`)).status).toBe(204);
    expect((await call('DELETE', alice, `/conversations/${g.id}/members/${alice.user.id}`)).status).toBe(204);
    const expected: SystemEvent[] = [
      { type: 'conversation_created', actorId: alice.user.id },
      { type: 'members_added', actorId: alice.user.id, userIds: [carol.user.id, dave.user.id] },
      { type: 'member_removed', actorId: alice.user.id, userId: dave.user.id },
      { type: 'member_left', actorId: carol.user.id },
      { type: 'member_left', actorId: alice.user.id },
      { type: 'admin_added', actorId: bob.user.id, userId: bob.user.id },
    ];
    expect(await storedSystem(bob, g.id, expected.length)).toEqual(expected);
    expect((await conversation(bob, g.id)).admins).toEqual([bob.user.id]);
    // A retried add of members already in changes and records nothing.
    expect((await call('POST', bob, `/conversations/${g.id}/members`, { userIds: [dave.user.id] })).status).toBe(200);
    expect((await call('POST', bob, `/conversations/${g.id}/members`, { userIds: [dave.user.id] })).status).toBe(200);
    const after = await storedSystem(bob, g.id, expected.length + 1);
    expect(after.filter((e) => e.type === 'members_added')).toHaveLength(2);
  });

  it('an added member gets conversation:new and then the message that says who added them', async () => {
    const g = await group(alice, [bob]);
    const daveSocket = await connectAs(dave.accessToken);
    sockets.push(daveSocket);
    const joined = nextEvent(daveSocket, 'conversation:new', (p) => p.conversation.id === g.id);
    const told = nextEvent(daveSocket, 'message:new', (p) => p.message.conversationId === g.id);
    expect((await call('POST', alice, `/conversations/${g.id}/members`, { userIds: [dave.user.id] })).status).toBe(200);
    await joined;
    expect((await told).message.system).toEqual({ type: 'members_added', actorId: alice.user.id, userIds: [dave.user.id] });
  });

  it('a member renamed between two membership changes: the second conversation:updated shows the new name', async () => {
    // The gateways keep the members they have read; a rename must reach their next view.
    const erin = await registerUser(uniqueName('er'));
    const g = await group(alice, [bob, erin]);
    const bobSocket = await connectAs(bob.accessToken);
    sockets.push(bobSocket);
    const nameOf = (c: Conversation) => c.members.find((m) => m.id === erin.user.id)?.displayName;
    const first = nextEvent(bobSocket, 'conversation:updated', (p) => p.conversation.id === g.id && p.conversation.members.some((m) => m.id === dave.user.id));
    expect((await call('POST', alice, `/conversations/${g.id}/members`, { userIds: [dave.user.id] })).status).toBe(200);
    expect(nameOf((await first).conversation)).toBe(erin.user.displayName);
    expect((await api('PATCH', '/api/auth/me', { token: erin.accessToken, body: { displayName: 'Erin Renamed' } })).status).toBe(200);
    const second = nextEvent(bobSocket, 'conversation:updated', (p) => p.conversation.id === g.id && !p.conversation.members.some((m) => m.id === dave.user.id));
    expect((await call('DELETE', alice, `/conversations/${g.id}/members/${dave.user.id}`)).status).toBe(204);
    expect(nameOf((await second).conversation)).toBe('Erin Renamed');
  });
});

describe('exactly once', () => {
  it('a redelivered system message event is stored once and counts nothing', async () => {
    const g = await group(alice, [bob]);
    const [created] = await storedSystem(bob, g.id, 1).then(async () => (await allMessages(bob.accessToken, g.id)).filter((m) => m.kind === 'system'));
    const headers = { [CONNECTOR_SECRET_HEADER]: secret(), 'x-topic': 'message.created' };
    for (let i = 0; i < 2; i++) {
      const again = await api('POST', '/function/db', { body: { message: created }, headers });
      expect(again.status).toBe(200);
      expect(again.body.stored).toBe(0);
    }
    // The same record again under a new id (a republished outbox entry): the unique
    // (senderId, clientMsgId) index still keeps one.
    const copy = { ...created!, id: makeMessage(g.id, alice.user.id, '').id };
    expect((await api('POST', '/function/db', { body: { message: copy }, headers })).body.stored).toBe(0);
    expect((await allMessages(bob.accessToken, g.id)).filter((m) => m.kind === 'system')).toHaveLength(1);
    const doc = await (await testDb()).models.Conversation.findById(g.id).lean<{ msgCount: number; sysCount: number; outbox: string[] }>();
    expect(doc).toMatchObject({ msgCount: 1, sysCount: 1, outbox: [] });
    expect((await conversation(bob, g.id)).unreadCount).toBe(0);
  });

  it('a change whose system message was never published (the process died in between) is published on the next read', async () => {
    const g = await group(alice, [bob]);
    await storedSystem(bob, g.id, 1);
    // What a crash right after the change's write leaves: the change, and its record in the outbox.
    const { systemMessage } = await import('./src/groups/system-messages.ts');
    const pending = systemMessage(g.id, 1, 0, { type: 'renamed', actorId: alice.user.id, title: 'After crash', previousTitle: 'Team' }, Date.now());
    await (await testDb()).models.Conversation.updateOne({ _id: g.id }, { $set: { title: 'After crash', rev: 1, outbox: [JSON.stringify(pending)] } });
    expect((await conversation(alice, g.id)).title).toBe('After crash');
    const events = await storedSystem(bob, g.id, 2);
    expect(events[1]).toEqual(pending.system);
    const doc = await (await testDb()).models.Conversation.findById(g.id).lean<{ outbox: string[] }>();
    expect(doc?.outbox).toEqual([]);
    // Reading again publishes nothing more.
    await conversation(alice, g.id);
    expect(systemOf(await allMessages(bob.accessToken, g.id))).toHaveLength(2);
  });
});
