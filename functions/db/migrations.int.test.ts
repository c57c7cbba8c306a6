import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '@chat/shared/log';
import type { Conversation, Message } from '@chat/shared/models/types';
import { toMessageDoc } from '@chat/shared/repositories/messages';
import { api, registerUser } from '../../test/api.ts';
import { makeMessage } from '../../test/bus.ts';
import { closeTestDb, testDb } from '../../test/db.ts';
import { migrateChunksAndCounters } from './src/migrations/chunks-and-counters.ts';
import { runMigrations, type MigrationStep } from './src/migrations/index.ts';

/**
 * The migration against the test stack's FerretDB: a conversation seeded directly in the shape
 * older versions stored (no chunks, no counters), migrated, killed half way, resumed.
 */
type Session = Awaited<ReturnType<typeof registerUser>>;
let alice: Session, bob: Session;
const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
const log: Logger = { debug: () => undefined, info: (msg, fields) => lines.push({ msg, fields }), warn: (msg, fields) => lines.push({ msg, fields }), error: (msg, fields) => lines.push({ msg, fields }) };
const get = (s: Session, p: string) => api<any>('GET', `/api/db${p}`, { token: s.accessToken });

beforeAll(async () => {
  [alice, bob] = await Promise.all([registerUser(), registerUser()]);
});
afterAll(closeTestDb);

describe('chunks-and-counters migration', () => {
  let convId: string;
  let ms: Message[];
  beforeAll(async () => {
    const { models } = await testDb();
    convId = new Types.ObjectId().toString();
    // 230 messages, every fifth one from bob; today's documents, written straight to the collections.
    ms = Array.from({ length: 230 }, (_, i) => makeMessage(convId, i % 5 === 4 ? bob.user.id : alice.user.id, `old${i}`));
    const now = new Date();
    await models.Conversation.collection.insertOne({
      _id: new Types.ObjectId(convId),
      type: 'group',
      title: 'from before',
      memberIds: [alice.user.id, bob.user.id],
      admins: [alice.user.id],
      uniqueKey: `group:${convId}`,
      lastMessageId: ms[229]!.id,
      createdAt: now,
      updatedAt: now,
    });
    await models.Message.collection.insertMany(ms.map((m) => toMessageDoc(m) as never));
    await models.ReadPosition.collection.insertOne({ conversationId: convId, userId: bob.user.id, messageId: ms[149]!.id } as never);
  });

  it('a run killed half way and resumed, then run again, ends with pages, unread counts and last messages right', async () => {
    const ctx = { models: (await testDb()).models, log };
    let writes = 0;
    const kill = () => {
      if (++writes === 2) throw new Error('killed');
    };
    await expect(migrateChunksAndCounters(ctx, { only: [convId], batch: 50, checkpoint: kill })).rejects.toThrow('killed');
    await migrateChunksAndCounters(ctx, { only: [convId], batch: 50 });
    await migrateChunksAndCounters(ctx, { only: [convId] });

    const newest = (await get(alice, `/conversations/${convId}/messages?limit=100`)).body;
    expect(newest.messages.map((m: Message) => m.body)).toEqual(ms.slice(130).map((m) => m.body));
    expect(newest.hasMore).toBe(true);
    const older = (await get(alice, `/conversations/${convId}/messages?limit=100&before=${ms[130]!.id}`)).body;
    expect(older.messages.map((m: Message) => m.id)).toEqual(ms.slice(30, 130).map((m) => m.id));
    const around = (await get(bob, `/conversations/${convId}/messages?around=${ms[100]!.id}&limit=3`)).body;
    expect(around.messages.map((m: Message) => m.body)).toEqual(['old99', 'old100', 'old101']);
    expect(newest.messages[0]).toEqual(ms[130]);

    const view = async (s: Session) => ((await get(s, '/conversations')).body.conversations as Conversation[]).find((c) => c.id === convId)!;
    // bob read up to old149: alice's messages after it are 80 of the last 80... minus bob's own 16.
    const bobs = await view(bob);
    expect(bobs.unreadCount).toBe(ms.slice(150).filter((m) => m.senderId === alice.user.id).length);
    expect(bobs.lastMessage).toEqual(ms[229]);
    expect(bobs.readPositions).toEqual([{ userId: bob.user.id, messageId: ms[149]!.id }]);
    // alice never read: every message from bob counts.
    expect((await view(alice)).unreadCount).toBe(ms.filter((m) => m.senderId === bob.user.id).length);
    // New messages after the migration continue the chunks and the counters.
    const { publishEvents, eventually } = await import('../../test/bus.ts');
    const next = makeMessage(convId, alice.user.id, 'after the migration');
    await publishEvents('message.created', [{ message: next }]);
    await eventually(async () => ((await view(bob)).lastMessage?.id === next.id ? true : undefined), 'new message stored');
    expect((await view(bob)).unreadCount).toBe(bobs.unreadCount + 1);
    const page = (await get(bob, `/conversations/${convId}/messages?limit=2`)).body;
    expect(page.messages.map((m: Message) => m.body)).toEqual(['old229', 'after the migration']);
    const doc = (await (await testDb()).models.Message.findById(next.id).lean()) as { chunk?: number } | null;
    expect(doc?.chunk).toBe(2);
  });
});

describe('the migration runner', () => {
  const stepIds: string[] = [];
  const uniqueStep = (run: () => Promise<void>): MigrationStep => {
    const id = `test-${new Types.ObjectId().toString()}`;
    stepIds.push(id);
    return { id, run };
  };
  afterAll(async () => {
    await (await testDb()).models.Migration.deleteMany({ _id: { $in: stepIds } });
  });

  it('runs a step once, one instance at a time, and never again once done', async () => {
    const ctx = { models: (await testDb()).models, log };
    let running = 0;
    let most = 0;
    let runs = 0;
    const step = uniqueStep(async () => {
      runs++;
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 300));
      running--;
    });
    await Promise.all([runMigrations(ctx, [step], { pollMs: 50 }), runMigrations(ctx, [step], { pollMs: 50 })]);
    expect([runs, most]).toEqual([1, 1]);
    await runMigrations(ctx, [step]);
    expect(runs).toBe(1);
    expect((await ctx.models.Migration.findById(step.id).lean())?.doneAt).toBeInstanceOf(Date);
  });

  it('a killed holder’s lock expires with its lease, and the next instance runs the step', async () => {
    const ctx = { models: (await testDb()).models, log };
    await ctx.models.Migration.updateOne({ _id: 'lock' }, { $set: { owner: 'killed-instance', leaseUntil: new Date(Date.now() + 700) } }, { upsert: true });
    let ran = 0;
    const t0 = Date.now();
    await runMigrations(ctx, [uniqueStep(async () => void ran++)], { pollMs: 50 });
    expect(ran).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    expect(lines.some((l) => l.msg === 'waiting for another instance to finish migrating')).toBe(true);
  });
});
