import { randomBytes, randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, Message } from '@chat/shared/models/types';
import { toMessageDoc } from '@chat/shared/repositories/messages';
import { userSearchKeys } from '@chat/shared/repositories/users';
import { api, registerUser, storeMessages, uniqueName } from './api.ts';
import { makeMessage } from './fixtures.ts';
import { closeTestDb, testDb } from './db.ts';
import { ScanCounter } from './scan-guard.ts';

/**
 * The guard against whole-table reads on request paths: each read route runs once on a store
 * seeded big enough that PostgreSQL prefers an index wherever one serves (thousands of rows per
 * table, ANALYZEd), and fails naming the route and the collection whose table it scanned.
 *
 * It runs in the chaos project because it needs the stack to itself: the counters are per table,
 * and other files' requests in parallel would be counted against these routes.
 *
 */

const SEED = 3000;
type Session = Awaited<ReturnType<typeof registerUser>>;
let alice: Session, bob: Session;
let conv: Conversation;
let messages: Message[];
let replies: Message[];
let fileId: string;
let counter: ScanCounter;
const endpoint = `http://127.0.0.1:9555/push/${randomUUID()}`;
const tag = uniqueName('guard');

async function seed(): Promise<void> {
  const { models } = await testDb();
  const run = randomBytes(3).toString('hex');
  const now = new Date();
  const users = Array.from({ length: SEED }, (_, i) => {
    const username = `g${run}${i}`;
    return { _id: new Types.ObjectId(), username, displayName: `Guard ${i}`, passwordHash: 'x', searchKeys: userSearchKeys(username, `Guard ${i}`), createdAt: now };
  });
  await models.User.insertMany(users, { ordered: false, lean: true });
  const ids = users.map((u) => u._id.toString());
  const pick = (i: number) => ids[i % ids.length]!;
  // Alice is a member of 20 of them, so her list and search span several conversations.
  const convs = Array.from({ length: SEED }, (_, i) => ({
    _id: new Types.ObjectId(),
    type: 'group',
    title: `g${i}`,
    memberIds: i < 20 ? [alice.user.id, pick(i)] : [pick(i), pick(i + 1)],
    admins: [pick(i)],
    uniqueKey: `group:${randomUUID()}`,
    lastMessageId: null,
    createdAt: now,
    updatedAt: now,
  }));
  await models.Conversation.insertMany(convs, { ordered: false, lean: true });
  const convIds = convs.map((c) => c._id.toString());
  const others = Array.from({ length: SEED * 2 }, (_, i) => makeMessage(convIds[i % convIds.length]!, pick(i), `seeded ${i} ${tag} the quick brown fox`));
  await models.Message.insertMany(others.map((m) => toMessageDoc(m)), { ordered: false, lean: true });
  // History chunks as a store that has grown has them (every placement looks its next one up by _id).
  await models.Chunk.insertMany(
    convIds.map((c, i) => ({ _id: `${c}:1`, stream: c, no: 1, start: others[i]!.id, base: 100 })),
    { ordered: false, lean: true },
  );
  await models.ReadPosition.insertMany(others.slice(0, SEED).map((m) => ({ conversationId: m.conversationId, userId: m.senderId, messageId: m.id })), { ordered: false, lean: true });
  await models.File.insertMany(
    Array.from({ length: SEED }, (_, i) => ({ conversationId: convIds[i]!, uploaderId: pick(i), name: `f${i}.txt`, size: 1, contentType: 'text/plain', status: 'complete', objectKey: `${convIds[i]}/${randomUUID()}`, createdAt: now, completedAt: now })),
    { ordered: false, lean: true },
  );
  await models.PushSubscription.insertMany(
    Array.from({ length: SEED }, (_, i) => ({ endpoint: `http://127.0.0.1:9555/push/seed-${run}-${i}`, userId: pick(i), p256dh: 'x', auth: 'x', createdAt: now, updatedAt: now })),
    { ordered: false, lean: true },
  );
  await models.NotificationPreference.insertMany(
    Array.from({ length: SEED }, (_, i) => ({ conversationId: convIds[i]!, userId: pick(i), muted: i % 2 === 0, updatedAt: now })),
    { ordered: false, lean: true },
  );
  await models.ThreadSubscription.insertMany(
    others.slice(0, SEED).map((m, i) => ({ _id: `${pick(i)}|${m.conversationId}/${m.id}`, userId: pick(i), conversationId: m.conversationId, rootId: m.id, following: true, readId: null, readCount: 0, readSent: 0 })),
    { ordered: false, lean: true },
  );
  const file = await models.File.create({ conversationId: conv.id, uploaderId: alice.user.id, name: 'guard.txt', size: 1, contentType: 'text/plain', status: 'complete', objectKey: `${conv.id}/${randomUUID()}`, createdAt: now, completedAt: now });
  fileId = file._id.toString();
}

const ok = (status: number) => async (method: string, p: string, s: Session, body?: unknown) => {
  const res = await api(method, p, { token: s.accessToken, body });
  expect(res.status, `${method} ${p}`).toBe(status);
};

let renames = 0;

/** Each read route as the client calls it: [name, request]. */
const routes: Array<[string, () => Promise<void>]> = [
  ['GET /api/auth/me', () => ok(200)('GET', '/api/auth/me', alice)],
  // A rename moves the profiles revision, so the list after it reads its members again.
  ['PATCH /api/auth/me', () => ok(200)('PATCH', '/api/auth/me', alice, { displayName: `Guard Alice ${++renames}` })],
  ['GET /api/db/users?q=', () => ok(200)('GET', `/api/db/users?q=${bob.user.username.slice(0, 5)}`, alice)],
  ['GET /api/db/conversations', () => ok(200)('GET', '/api/db/conversations', alice)],
  ['GET /api/db/conversations/:id', () => ok(200)('GET', `/api/db/conversations/${conv.id}`, alice)],
  ['GET /api/db/conversations/:id/messages (newest)', () => ok(200)('GET', `/api/db/conversations/${conv.id}/messages?limit=20`, alice)],
  ['GET /api/db/conversations/:id/messages?before=', () => ok(200)('GET', `/api/db/conversations/${conv.id}/messages?before=${messages[30]!.id}&limit=20`, alice)],
  ['GET /api/db/conversations/:id/messages?after=', () => ok(200)('GET', `/api/db/conversations/${conv.id}/messages?after=${messages[10]!.id}&limit=20`, alice)],
  ['GET /api/db/conversations/:id/messages?around=', () => ok(200)('GET', `/api/db/conversations/${conv.id}/messages?around=${messages[40]!.id}&limit=20`, alice)],
  ['GET /api/db/conversations/:id/threads/:rootId/messages (newest)', () => ok(200)('GET', `/api/db/conversations/${conv.id}/threads/${messages[0]!.id}/messages?limit=20`, alice)],
  ['GET /api/db/conversations/:id/threads/:rootId/messages?before=', () => ok(200)('GET', `/api/db/conversations/${conv.id}/threads/${messages[0]!.id}/messages?before=${replies[30]!.id}&limit=10`, alice)],
  ['GET /api/db/conversations/:id/threads/:rootId/messages?around=', () => ok(200)('GET', `/api/db/conversations/${conv.id}/threads/${messages[0]!.id}/messages?around=${replies[20]!.id}&limit=10`, alice)],
  ['GET /api/db/conversations/:id/threads/:rootId', () => ok(200)('GET', `/api/db/conversations/${conv.id}/threads/${messages[0]!.id}`, alice)],
  ['PUT /api/db/conversations/:id/threads/:rootId/follow', () => ok(204)('PUT', `/api/db/conversations/${conv.id}/threads/${messages[0]!.id}/follow`, bob)],
  ['POST /api/db/conversations/:id/threads/:rootId/read', () => ok(204)('POST', `/api/db/conversations/${conv.id}/threads/${messages[0]!.id}/read`, alice, { messageId: replies[35]!.id })],
  ['GET /api/db/threads?unread=true', () => ok(200)('GET', '/api/db/threads?unread=true', alice)],
  ['GET /api/db/search', () => ok(200)('GET', `/api/db/search?q=${tag}%20quick`, alice)],
  ['GET /api/db/search?conversationId=', () => ok(200)('GET', `/api/db/search?q=${tag}&conversationId=${conv.id}`, alice)],
  ['GET /api/db/search?from=&since=&until=', () => ok(200)('GET', `/api/db/search?q=${tag}&from=${alice.user.id}&since=2000-01-01&until=2100-01-01`, alice)],
  ['GET /api/file/files/:id', () => ok(200)('GET', `/api/file/files/${fileId}`, alice)],
  ['GET /api/notification/preferences/:conversationId', () => ok(200)('GET', `/api/notification/preferences/${conv.id}`, alice)],
  // Writes that read the conversation and publish system messages (each call changes something).
  ['PATCH /api/db/conversations/:id', () => ok(200)('PATCH', `/api/db/conversations/${conv.id}`, alice, { title: `guard ${++renames}` })],
  ['PUT /api/db/conversations/:id/admins/:userId', () => ok(200)('PUT', `/api/db/conversations/${conv.id}/admins/${bob.user.id}`, alice)],
  ['DELETE /api/db/conversations/:id/admins/:userId', () => ok(200)('DELETE', `/api/db/conversations/${conv.id}/admins/${bob.user.id}`, alice)],
  ['PUT /api/notification/preferences/:conversationId', () => ok(204)('PUT', `/api/notification/preferences/${conv.id}`, alice, { muted: true })],
  [
    'POST /api/notification/subscriptions',
    () =>
      ok(201)('POST', '/api/notification/subscriptions', alice, {
        endpoint,
        keys: { p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString('base64url'), auth: randomBytes(16).toString('base64url') },
      }),
  ],
  ['DELETE /api/notification/subscriptions', () => ok(204)('DELETE', '/api/notification/subscriptions', alice, { endpoint })],
];

beforeAll(async () => {
  [alice, bob] = await Promise.all([registerUser(uniqueName('ga')), registerUser(uniqueName('gb'))]);
  const res = await api('POST', '/api/db/conversations', { token: alice.accessToken, body: { type: 'group', title: 'guard', memberIds: [bob.user.id] } });
  conv = res.body.conversation;
  messages = Array.from({ length: 60 }, (_, i) => makeMessage(conv.id, i % 2 ? bob.user.id : alice.user.id, `${tag} message ${i} quick`));
  // A thread of 40 on the first message, stored in the same batch as its root.
  replies = Array.from({ length: 40 }, (_, i) => makeMessage(conv.id, i % 2 ? alice.user.id : bob.user.id, `${tag} reply ${i}`, { threadRootId: messages[0]!.id }));
  await storeMessages([...messages, ...replies]);
  counter = new ScanCounter();
  await counter.open();
  const since = await counter.now();
  await seed();
  await counter.analyze();
  await counter.settle(since);
  // Warm every route once: first calls may plan or cache differently (and the functions' first
  // queries may create collections); the guard is about the steady state.
  for (const [, request] of routes) await request();
  await counter.settle(since);
}, 180_000);

afterAll(async () => {
  await counter?.close();
  await closeTestDb();
});

describe('no request reads a whole table (pg_stat_user_tables.seq_scan)', () => {
  it('the guard sees a whole-collection read when one happens', async () => {
    const scanned = await counter.scansOf(async () => {
      await (await testDb()).models.File.find({ name: { $regex: '^nothing' } }).lean();
    });
    expect(scanned).toHaveProperty('files');
  });

  it('the collections it leaves out hold a fixed handful of docs', async () => {
    const { conn } = await testDb();
    for (const c of ScanCounter.FIXED_SIZE) expect(await conn.db!.collection(c).countDocuments(), c).toBeLessThanOrEqual(3);
  });

  for (const [name, request] of routes) {
    it(name, async () => {
      const scanned = await counter.scansOf(request);
      expect(scanned, `${name} scanned whole tables (collection: scans)`).toEqual({});
    });
  }
});
