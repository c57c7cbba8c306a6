import { existsSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSecret } from '@chat/shared/config';
import type { MessageCreatedEvent } from '@chat/shared/events/bus';
import { messageId } from '@chat/shared/ids';
import { createPublisher, type Publisher } from '@chat/shared/infra/rabbit';
import { connectRedis } from '@chat/shared/infra/redis';
import { createLogger } from '@chat/shared/log';
import { plainMessageFields, type Attachment, type AuthSession, type Message } from '@chat/shared/models/types';
import { PresenceStore } from '@chat/shared/presence';
import { api, registerUser } from '../../test/api.ts';
import { closeTestDb, createConversation, testDb } from '../../test/db.ts';
import { PushReceiver, type TestSubscription } from '../../test/push-receiver.ts';
import { connectAs, type ClientSocket } from '../../test/socket.ts';
import { stack } from '../../test/stack.ts';

const N = '/api/notification';
const secret = (name: string) => readSecret(name, { SECRETS_DIR: stack().env.SECRETS_DIR });

/**
 * Events reach the function the way production delivers them: published to RabbitMQ and carried
 * by the connector, once this checkout has one that routes message.created to notification;
 * before that, by the same call the connector makes (POST /function/notification with the secret).
 */
const viaBus =
  existsSync('connector/src/index.ts') && existsSync('stack.yml') && /\n {2}notification:[\s\S]*?topic:[^\n]*message\.created/.test(readFileSync('stack.yml', 'utf8'));
let publisher: Publisher | null = null;

const postEvent = (body: unknown, headers: Record<string, string> = {}) =>
  api('POST', '/function/notification', {
    raw: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-topic': 'message.created', 'x-connector-secret': secret('connector-secret'), ...headers },
  });

async function deliver(event: MessageCreatedEvent): Promise<void> {
  if (viaBus) {
    publisher ??= createPublisher({ url: stack().env.AMQP_URL!, log: createLogger('test') });
    await publisher.publish('message.created', event);
    return;
  }
  const res = await postEvent(event);
  expect(res.status).toBe(202);
}

const message = (conversationId: string, sender: AuthSession, over: Partial<Message> = {}): Message => {
  const now = Date.now();
  return {
    id: messageId(now),
    conversationId,
    senderId: sender.user.id,
    clientMsgId: `c-${now}-${Math.random()}`,
    body: 'Hello there',
    attachments: [],
    replyToId: null,
    reactions: [],
    createdAt: new Date(now).toISOString(),
    editedAt: null,
    deletedAt: null,
    ...plainMessageFields(),
    ...over,
  };
};

const subscribe = (s: AuthSession, sub: { endpoint: string; keys: { p256dh: string; auth: string } }) =>
  api('POST', `${N}/subscriptions`, { token: s.accessToken, body: { endpoint: sub.endpoint, keys: sub.keys } });
const mute = (s: AuthSession, conversationId: string, muted: boolean) =>
  api('PUT', `${N}/preferences/${conversationId}`, { token: s.accessToken, body: { muted } });
const storedSubscription = async (endpoint: string) => (await testDb()).models.PushSubscription.findOne({ endpoint }).lean();

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const receiver = new PushReceiver();
let redis: Redis;
let presence: PresenceStore;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  const local = (stack().env.PUSH_ALLOWED_ORIGINS ?? '').split(',').find((o) => o.startsWith('http://127.0.0.1:'));
  if (!local) throw new Error('the test stack needs PUSH_ALLOWED_ORIGINS with an http://127.0.0.1:<port> receiver');
  await receiver.listen(local);
  redis = connectRedis(stack().env.REDIS_URL!, stack().env.REDIS_PREFIX!);
  presence = new PresenceStore(redis);
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await Promise.all([receiver.close(), closeTestDb(), redis.quit(), publisher?.close()]);
});

describe('keys and subscriptions', () => {
  it('serves the VAPID public key the pushes are signed with', async () => {
    const res = await api('GET', `${N}/vapid-public-key`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ publicKey: JSON.parse(secret('vapid-keys')).publicKey });
    expect(res.body.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
  });

  it('refuses an endpoint outside PUSH_ALLOWED_ORIGINS with 400 and stores nothing', async () => {
    const s = await registerUser();
    const keys = receiver.subscription().keys;
    for (const endpoint of ['http://169.254.169.254/latest/meta-data', 'http://127.0.0.1:6379/', 'https://fcm.googleapis.com.evil.example/x', 'not a url']) {
      const res = await subscribe(s, { endpoint, keys });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(await storedSubscription(endpoint)).toBeNull();
    }
  });

  it('refuses malformed keys (400) and anonymous callers (401)', async () => {
    const s = await registerUser();
    const sub = receiver.subscription();
    expect((await subscribe(s, { endpoint: sub.endpoint, keys: { p256dh: 'abc', auth: sub.keys.auth } })).status).toBe(400);
    expect((await subscribe(s, { endpoint: sub.endpoint, keys: { p256dh: sub.keys.p256dh, auth: 'AAAA' } })).status).toBe(400);
    expect((await api('POST', `${N}/subscriptions`, { body: { endpoint: sub.endpoint, keys: sub.keys } })).status).toBe(401);
    expect(await storedSubscription(sub.endpoint)).toBeNull();
  });

  it('stores a subscription (201), updates it on a repeat, and deletes it (204)', async () => {
    const s = await registerUser();
    const sub = receiver.subscription();
    expect((await subscribe(s, sub)).status).toBe(201);
    const fresh = receiver.subscription();
    expect((await subscribe(s, { endpoint: sub.endpoint, keys: fresh.keys })).status).toBe(201);
    expect(await storedSubscription(sub.endpoint)).toMatchObject({ userId: s.user.id, p256dh: fresh.keys.p256dh, auth: fresh.keys.auth });
    expect(await (await testDb()).models.PushSubscription.countDocuments({ endpoint: sub.endpoint })).toBe(1);
    const del = await api('DELETE', `${N}/subscriptions`, { token: s.accessToken, body: { endpoint: sub.endpoint } });
    expect(del.status).toBe(204);
    expect(await storedSubscription(sub.endpoint)).toBeNull();
  });

  it('mutes only for members (404 otherwise)', async () => {
    const [a, b, outsider] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    const conv = await createConversation('direct', [a.user.id, b.user.id]);
    expect((await mute(outsider, conv.id, true)).status).toBe(404);
    expect((await mute(a, 'aaaaaaaaaaaaaaaaaaaaaaaa', true)).status).toBe(404);
    expect((await api('PUT', `${N}/preferences/${conv.id}`, { token: a.accessToken, body: { muted: 'yes' } })).status).toBe(400);
    expect((await mute(a, conv.id, true)).status).toBe(204);
    expect((await api('GET', `${N}/preferences/${conv.id}`, { token: a.accessToken })).body).toEqual({ level: 'none', muted: true });
    expect((await api('GET', `${N}/preferences/${conv.id}`, { token: b.accessToken })).body).toEqual({ level: 'all', muted: false });
  });
});

describe('pushes for new messages', () => {
  let alice: AuthSession, bob: AuthSession, carol: AuthSession, dave: AuthSession;
  let subs: Record<'alice' | 'bob' | 'bob2' | 'carol' | 'dave', TestSubscription>;
  let groupId: string;

  beforeAll(async () => {
    [alice, bob, carol, dave] = await Promise.all([registerUser(), registerUser(), registerUser(), registerUser()]);
    groupId = (await createConversation('group', [alice.user.id, bob.user.id, carol.user.id, dave.user.id], 'Launch crew')).id;
    subs = { alice: receiver.subscription(), bob: receiver.subscription(), bob2: receiver.subscription(), carol: receiver.subscription(), dave: receiver.subscription() };
    for (const [who, s] of [[alice, subs.alice], [bob, subs.bob], [bob, subs.bob2], [carol, subs.carol], [dave, subs.dave]] as const)
      expect((await subscribe(who, s)).status).toBe(201);
    expect((await mute(dave, groupId, true)).status).toBe(204);
    const socket = await connectAs(carol.accessToken);
    sockets.push(socket);
    await until('carol online', () => presence.isOnline(carol.user.id), Boolean);
  });

  /** Delivers a fresh message and waits for its push: pushes queued before it have left by then. */
  const markerPushedTo = async (sub: TestSubscription) => {
    const marker = message(groupId, alice, { body: 'marker' });
    await deliver({ message: marker });
    await receiver.waitFor(sub.id, (p) => p.payload.messageId === marker.id);
  };

  it('an offline member gets one encrypted, VAPID-signed push per device; the sender, an online and a muted member get none', async () => {
    const m = message(groupId, alice, { body: 'Ship it on Friday?' });
    await deliver({ message: m });
    const forM = (p: { payload: any }) => p.payload.messageId === m.id;
    const [push] = await receiver.waitFor(subs.bob.id, forM);
    await receiver.waitFor(subs.bob2.id, forM);

    expect(push!.payload).toEqual({ type: 'message', conversationId: groupId, messageId: m.id, title: `${alice.user.displayName} in Launch crew`, body: 'Ship it on Friday?' });
    expect(push!.vapid.publicKey).toBe(JSON.parse(secret('vapid-keys')).publicKey);
    expect(push!.headers['content-encoding']).toBe('aes128gcm');
    expect(Number(push!.headers.ttl)).toBeGreaterThan(0);
    expect(push!.headers.urgency).toBe('high');

    // A later message is the marker: its push leaves after any push m could have caused.
    await markerPushedTo(subs.bob);
    expect(receiver.pushesFor(subs.alice.id, forM)).toHaveLength(0);
    expect(receiver.pushesFor(subs.carol.id, forM)).toHaveLength(0);
    expect(receiver.pushesFor(subs.dave.id, forM)).toHaveLength(0);
    expect(receiver.pushesFor(subs.bob.id, forM)).toHaveLength(1);
  });

  it('the same members are notified once they go offline or unmute', async () => {
    sockets.pop()!.disconnect();
    await until('carol offline', () => presence.isOnline(carol.user.id), (v) => !v);
    expect((await mute(dave, groupId, false)).status).toBe(204);
    const m = message(groupId, alice, { body: 'Now everyone hears it' });
    await deliver({ message: m });
    const forM = (p: { payload: any }) => p.payload.messageId === m.id;
    for (const s of [subs.bob, subs.carol, subs.dave]) expect((await receiver.waitFor(s.id, forM))[0]!.payload.body).toBe('Now everyone hears it');
    expect(receiver.pushesFor(subs.alice.id, forM)).toHaveLength(0);
  });

  it('a redelivered event (or a batch repeating it) pushes no device twice', async () => {
    const m = message(groupId, alice, { body: 'once only' });
    await deliver({ message: m });
    await deliver({ message: m });
    const batch = await postEvent(
      [
        { topic: 'message.created', event: { message: m } },
        { topic: 'message.updated', event: { kind: 'edit', messageId: m.id, conversationId: groupId, body: 'x', editedAt: new Date().toISOString() } },
      ],
      { 'x-batch': '1', 'x-topic': '' },
    );
    expect(batch.status).toBe(202);
    await markerPushedTo(subs.bob);
    await receiver.waitFor(subs.bob.id, (p) => p.payload.messageId === m.id);
    expect(receiver.pushesFor(subs.bob.id, (p) => p.payload.messageId === m.id)).toHaveLength(1);
    expect(receiver.pushesFor(subs.bob2.id, (p) => p.payload.messageId === m.id)).toHaveLength(1);
  });

  it('describes an attachments-only message by its file, and keeps long bodies to 200 characters', async () => {
    const file: Attachment = { fileId: 'f1', name: 'plan.pdf', size: 10, contentType: 'application/pdf', width: null, height: null };
    const a = message(groupId, alice, { body: '', attachments: [file] });
    const long = message(groupId, alice, { body: 'word '.repeat(300).trim() });
    await deliver({ message: a });
    await deliver({ message: long });
    expect((await receiver.waitFor(subs.bob.id, (p) => p.payload.messageId === a.id))[0]!.payload.body).toBe('📎 plan.pdf');
    const body = (await receiver.waitFor(subs.bob.id, (p) => p.payload.messageId === long.id))[0]!.payload.body as string;
    expect(body.length).toBeLessThanOrEqual(200);
    expect(body.startsWith('word word')).toBe(true);
  });

  it('a batch across conversations applies each mute to its own conversation only', async () => {
    // dave mutes the group again but not his direct chat with alice; one call carries both.
    expect((await mute(dave, groupId, true)).status).toBe(204);
    const direct = await createConversation('direct', [alice.user.id, dave.user.id]);
    const inGroup = message(groupId, alice, { body: 'group news' });
    const inDirect = message(direct.id, alice, { body: 'just for dave' });
    const res = await postEvent(
      [
        { topic: 'message.created', event: { message: inGroup } },
        { topic: 'message.created', event: { message: inDirect } },
      ],
      { 'x-batch': '1', 'x-topic': '' },
    );
    expect(res.status).toBe(202);
    expect((await receiver.waitFor(subs.dave.id, (p) => p.payload.messageId === inDirect.id))[0]!.payload.title).toBe(alice.user.displayName);
    await receiver.waitFor(subs.bob.id, (p) => p.payload.messageId === inGroup.id);
    await markerPushedTo(subs.bob);
    expect(receiver.pushesFor(subs.dave.id, (p) => p.payload.messageId === inGroup.id)).toHaveLength(0);
    expect((await mute(dave, groupId, false)).status).toBe(204);
  });

  it('takes the recipients from the event, but pushes nothing to someone who has left since it was sent', async () => {
    const erin = await registerUser();
    const erinSub = receiver.subscription();
    expect((await subscribe(erin, erinSub)).status).toBe(201);
    const conv = await createConversation('group', [alice.user.id, bob.user.id, erin.user.id], 'Leavers');
    // The gateway saw all three when it accepted the message; erin is removed before it is handled.
    await (await testDb()).models.Conversation.updateOne({ _id: conv.id }, { $pull: { memberIds: erin.user.id } });
    const m = message(conv.id, alice, { body: 'after erin left' });
    await deliver({ message: m, memberIds: [alice.user.id, bob.user.id, erin.user.id] });
    expect((await receiver.waitFor(subs.bob.id, (p) => p.payload.messageId === m.id))[0]!.payload.title).toBe(`${alice.user.displayName} in Leavers`);
    await markerPushedTo(subs.bob);
    expect(receiver.pushesFor(erinSub.id, () => true)).toHaveLength(0);
  });

  it('a direct message is titled with the sender alone', async () => {
    const conv = await createConversation('direct', [alice.user.id, bob.user.id]);
    const m = message(conv.id, alice, { body: 'psst' });
    await deliver({ message: m });
    expect((await receiver.waitFor(subs.bob.id, (p) => p.payload.messageId === m.id))[0]!.payload.title).toBe(alice.user.displayName);
  });
});

describe('notification levels', () => {
  const setLevel = (s: AuthSession, conversationId: string, body: unknown) => api('PUT', `${N}/preferences/${conversationId}`, { token: s.accessToken, body });
  const levelOf = async (s: AuthSession, conversationId: string) => (await api('GET', `${N}/preferences/${conversationId}`, { token: s.accessToken })).body;
  /** A group of more than 10 members: the three users plus made-up member ids. */
  const bigGroup = (ids: string[]) => createConversation('group', [...ids, ...Array.from({ length: 9 }, (_, i) => `65a${String(i).padStart(21, '0')}`)], 'Big room');

  it('defaults to all in a direct conversation and mentions in a group of more than 10', async () => {
    const [a, b, c] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    const direct = await createConversation('direct', [a.user.id, b.user.id]);
    const small = await createConversation('group', [a.user.id, b.user.id, c.user.id]);
    const big = await bigGroup([a.user.id, b.user.id, c.user.id]);
    expect(await levelOf(a, direct.id)).toEqual({ level: 'all', muted: false });
    expect(await levelOf(a, small.id)).toEqual({ level: 'all', muted: false });
    expect(await levelOf(a, big.id)).toEqual({ level: 'mentions', muted: false });
    // The conversation list says the same.
    const list = (await api('GET', '/api/db/conversations', { token: a.accessToken })).body.conversations as Array<{ id: string; notificationLevel: string }>;
    expect(list.find((x) => x.id === big.id)?.notificationLevel).toBe('mentions');
    expect(list.find((x) => x.id === direct.id)?.notificationLevel).toBe('all');
  });

  it('sets a level for members only; bad bodies get 400 with the error shape and change nothing', async () => {
    const [a, b, outsider] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    const conv = await createConversation('direct', [a.user.id, b.user.id]);
    expect((await setLevel(a, conv.id, { level: 'mentions' })).status).toBe(204);
    expect(await levelOf(a, conv.id)).toEqual({ level: 'mentions', muted: false });
    for (const body of [{ level: 'loud' }, {}, { level: 'all', muted: true }, { level: 'all', extra: 1 }, { level: null }]) {
      const res = await setLevel(a, conv.id, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
    }
    expect(await levelOf(a, conv.id)).toEqual({ level: 'mentions', muted: false });
    const denied = await setLevel(outsider, conv.id, { level: 'none' });
    expect(denied.status).toBe(404);
    expect(denied.body.error.code).toBe('not_found');
    expect((await api('GET', `${N}/preferences/${conv.id}`, { token: outsider.accessToken })).status).toBe(404);
    expect((await api('PUT', `${N}/preferences/${conv.id}`, { body: { level: 'none' } })).status).toBe(401);
    // The older body keeps working: true is none, false is all.
    expect((await setLevel(a, conv.id, { muted: true })).status).toBe(204);
    expect(await levelOf(a, conv.id)).toEqual({ level: 'none', muted: true });
    expect((await setLevel(a, conv.id, { muted: false })).status).toBe(204);
    expect(await levelOf(a, conv.id)).toEqual({ level: 'all', muted: false });
    expect(await levelOf(b, conv.id)).toEqual({ level: 'all', muted: false });
  });

  it('pushes every message at all, only mentions at mentions (the big-group default), nothing at none', async () => {
    const [alice, bob, carol, dave] = await Promise.all([registerUser(), registerUser(), registerUser(), registerUser()]);
    const conv = await bigGroup([alice.user.id, bob.user.id, carol.user.id, dave.user.id]);
    const subs = { bob: receiver.subscription(), carol: receiver.subscription(), dave: receiver.subscription() };
    for (const [who, sub] of [[bob, subs.bob], [carol, subs.carol], [dave, subs.dave]] as const) expect((await subscribe(who, sub)).status).toBe(201);
    expect((await setLevel(bob, conv.id, { level: 'all' })).status).toBe(204);
    expect((await setLevel(dave, conv.id, { level: 'none' })).status).toBe(204);

    const plain = message(conv.id, alice, { body: 'lunch?' });
    const mentioning = message(conv.id, alice, { body: '@carol @dave look', mentions: [carol.user.id, dave.user.id] });
    await deliver({ message: plain });
    await deliver({ message: mentioning });
    const [mentionPush] = await receiver.waitFor(subs.carol.id, (p) => p.payload.messageId === mentioning.id);
    expect(mentionPush!.payload.body).toBe('@carol @dave look');
    await receiver.waitFor(subs.bob.id, (p) => p.payload.messageId === plain.id);
    await receiver.waitFor(subs.bob.id, (p) => p.payload.messageId === mentioning.id);
    // A marker pushed to everyone at all after both: whatever those two caused has arrived.
    expect((await setLevel(carol, conv.id, { level: 'all' })).status).toBe(204);
    const marker = message(conv.id, alice, { body: 'marker' });
    await deliver({ message: marker });
    await receiver.waitFor(subs.carol.id, (p) => p.payload.messageId === marker.id);
    expect(receiver.pushesFor(subs.carol.id, (p) => p.payload.messageId === plain.id)).toHaveLength(0);
    expect(receiver.pushesFor(subs.dave.id)).toHaveLength(0);
  });
});

describe('pushes for thread replies', () => {
  let alice: AuthSession, bob: AuthSession, carol: AuthSession, dave: AuthSession;
  let subs: TestSubscription[];
  let groupId: string;
  beforeAll(async () => {
    [alice, bob, carol, dave] = await Promise.all([registerUser(), registerUser(), registerUser(), registerUser()]);
    groupId = (await createConversation('group', [alice.user.id, bob.user.id, carol.user.id, dave.user.id], 'Threads crew')).id;
    subs = [alice, bob, carol, dave].map(() => receiver.subscription());
    for (const [i, who] of [alice, bob, carol, dave].entries()) expect((await subscribe(who, subs[i]!)).status).toBe(201);
  });
  const view = async (s: AuthSession, rootId: string) => (await api('GET', `/api/db/conversations/${groupId}/threads/${rootId}`, { token: s.accessToken })).body.thread;
  /** A top-level message pushes to every other member: once it has, any push sent before it has too. */
  const marker = async () => {
    const m = message(groupId, alice, { body: 'marker' });
    await deliver({ message: m });
    await Promise.all([1, 2, 3].map((i) => receiver.waitFor(subs[i]!.id, (p) => p.payload.messageId === m.id)));
  };

  it('a reply pushes to the thread’s followers only: the root author, then repliers and the mentioned, not who unfollowed', async () => {
    const root = message(groupId, alice, { body: 'Shall we?' });
    await deliver({ message: root });
    await until('root stored', async () => (await testDb()).models.Message.findById(root.id).lean(), Boolean);
    const r1 = message(groupId, bob, { body: 'Yes', threadRootId: root.id });
    await deliver({ message: r1 });
    const [push] = await receiver.waitFor(subs[0]!.id, (p) => p.payload.messageId === r1.id);
    expect(push!.payload).toMatchObject({ conversationId: groupId, messageId: r1.id, threadRootId: root.id, body: 'Yes' });
    await marker();
    for (const i of [1, 2, 3]) expect(receiver.pushesFor(subs[i]!.id, (p) => p.payload.messageId === r1.id)).toHaveLength(0);

    // bob follows by replying (once stored); alice unfollows; carol's reply mentions dave.
    await until('bob follows', () => view(bob, root.id), (t) => t?.following === true);
    expect((await api('DELETE', `/api/db/conversations/${groupId}/threads/${root.id}/follow`, { token: alice.accessToken })).status).toBe(204);
    const r2 = message(groupId, carol, { body: '@dave?', threadRootId: root.id, mentions: [dave.user.id] });
    await deliver({ message: r2 });
    await Promise.all([1, 3].map((i) => receiver.waitFor(subs[i]!.id, (p) => p.payload.messageId === r2.id)));
    await marker();
    for (const i of [0, 2]) expect(receiver.pushesFor(subs[i]!.id, (p) => p.payload.messageId === r2.id)).toHaveLength(0);

    // Also to the channel: every member, as for any message of the conversation.
    const r3 = message(groupId, dave, { body: 'everyone', threadRootId: root.id, alsoToChannel: true });
    await deliver({ message: r3 });
    await Promise.all([0, 1, 2].map((i) => receiver.waitFor(subs[i]!.id, (p) => p.payload.messageId === r3.id)));
  });
});

describe('push service answers', () => {
  let alice: AuthSession, bob: AuthSession;
  let convId: string;
  beforeAll(async () => {
    [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    convId = (await createConversation('direct', [alice.user.id, bob.user.id])).id;
  });

  it.each([410, 404])('a %i deletes the subscription', async (status) => {
    const sub = receiver.subscription();
    receiver.respond(sub.id, { statuses: [status] });
    expect((await subscribe(bob, sub)).status).toBe(201);
    await deliver({ message: message(convId, alice) });
    await until('subscription removed', () => storedSubscription(sub.endpoint), (v) => v === null);
    expect(receiver.hits.get(sub.id)).toBe(1);
    expect((await (await testDb()).models.PushSubscription.find({ userId: bob.user.id }).lean()).map((s) => s.endpoint)).not.toContain(sub.endpoint);
  });

  it('a 429 with Retry-After is retried after the wait and then delivered; a 500 is retried too', async () => {
    const limited = receiver.subscription();
    const failing = receiver.subscription();
    receiver.respond(limited.id, { statuses: [429, 201], retryAfter: '1' });
    receiver.respond(failing.id, { statuses: [503, 201] });
    expect((await subscribe(bob, limited)).status).toBe(201);
    expect((await subscribe(bob, failing)).status).toBe(201);
    const m = message(convId, alice, { body: 'retry me' });
    const sentAt = Date.now();
    await deliver({ message: m });
    const [push] = await receiver.waitFor(limited.id, (p) => p.payload.messageId === m.id);
    expect(push!.at - sentAt).toBeGreaterThanOrEqual(900);
    await receiver.waitFor(failing.id, (p) => p.payload.messageId === m.id);
    expect(receiver.hits.get(limited.id)).toBe(2);
    expect(await storedSubscription(limited.endpoint)).not.toBeNull();
    await api('DELETE', `${N}/subscriptions`, { token: bob.accessToken, body: { endpoint: limited.endpoint } });
    await api('DELETE', `${N}/subscriptions`, { token: bob.accessToken, body: { endpoint: failing.endpoint } });
  });

  it('a push service that never answers does not hold up the event call', async () => {
    const slow = receiver.subscription();
    receiver.respond(slow.id, { statuses: [201], delayMs: 20_000 });
    expect((await subscribe(bob, slow)).status).toBe(201);
    const started = Date.now();
    const res = await postEvent({ message: message(convId, alice, { body: 'slow' }) });
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(1000);
    await until('the slow service was called', async () => receiver.hits.get(slow.id) ?? 0, (n) => n >= 1);
    await api('DELETE', `${N}/subscriptions`, { token: bob.accessToken, body: { endpoint: slow.endpoint } });
  });
});

describe('event entry point', () => {
  it('refuses calls without the connector secret (401) and pushes nothing', async () => {
    const [a, b] = await Promise.all([registerUser(), registerUser()]);
    const sub = receiver.subscription();
    expect((await subscribe(b, sub)).status).toBe(201);
    const conv = await createConversation('direct', [a.user.id, b.user.id]);
    const event = { message: message(conv.id, a) };
    expect((await postEvent(event, { 'x-connector-secret': '' })).status).toBe(401);
    expect((await postEvent(event, { 'x-connector-secret': 'guess' })).status).toBe(401);
    expect((await api('POST', '/api/notification/', { body: event, headers: { 'x-topic': 'message.created' } })).status).toBe(401);
    // The same event with the secret goes through, so the refusals above were the secret's doing.
    expect((await postEvent(event)).status).toBe(202);
    await receiver.waitFor(sub.id, (p) => p.payload.messageId === event.message.id);
    expect(receiver.hits.get(sub.id)).toBe(1);
  });

  it('refuses a malformed message.created with 400 and ignores other topics', async () => {
    expect((await postEvent({ message: { id: 'x' } })).status).toBe(400);
    const other = await postEvent({ conversationId: 'c', memberIds: [] }, { 'x-topic': 'conversation.created' });
    expect(other.status).toBe(202);
    expect(other.body).toEqual({ events: 0, queued: 0 });
  });
});
