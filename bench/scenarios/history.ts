import mongoose from 'mongoose';
import { eachLimit } from '@chat/shared/concurrency';
import { chunkId } from '@chat/shared/repositories/chunks';
import type { Message } from '@chat/shared/models/types';
import { asStored, toMessageDoc } from '@chat/shared/repositories/messages';
import { placeInOpen } from '../../functions/db/src/history/chunker.ts';
import type { BenchContext, ScenarioResult } from '../lib/context.ts';
import { buildMessages, mintTokens, seedUsersAndGroups, type SeededGroup } from '../lib/seed.ts';
import { evaluate, median, percentile, round } from '../lib/stats.ts';

/**
 * History reads as a store grows: conversations of 1,000, 10,000 and 100,000 messages, and a
 * store of (up to) 1,000,000 messages, seeded straight into the store in the shape the db function
 * writes (chunks placed by its own chunker module, counters as it keeps them). Then, through the
 * ingress on a warm stack: the newest page, a page 90% back, `around=`, and GET /conversations
 * for a member of 50 conversations that all have unread messages. Each read is reported as a
 * ratio to the same read at 1,000 messages.
 */
const SIZES = [1_000, 10_000, 100_000];

/**
 * More reads on the same seeded store, timed for a member of the largest conversation. Search:
 * every seeded body says "benchmark message <i>: the quick brown fox…", so "benchmark" matches
 * every message of it and "12345" (a word prefix of 5) about eleven.
 */
const extraReads: Array<(seeded: { largest: SeededGroup; words: { rare: string; common: string } }) => Array<{ name: string; path: string }>> = [
  ({ words }) => [
    { name: 'search, rare word', path: `/search?q=${words.rare}` },
    { name: 'search, common word', path: `/search?q=${words.common}` },
  ],
];

type Doc = ReturnType<typeof toMessageDoc>;

/**
 * What the db function adds for the conversation list (docs/storage.md): the record's copy of its
 * last message, and the members on each read position with the record saying all of them have it.
 */
const listShape = {
  conversation: { readsByAudience: true },
  last: (m: Message) => ({ lastMessage: JSON.stringify(asStored(m)), lastMessageRev: 0 }),
  position: (memberIds: string[]) => ({ audience: memberIds }),
};

/** What the db function would have stored for these messages of one conversation (ids ascending). */
function storedShape(convId: string, ids: string[], senders: string[]) {
  const placed = placeInOpen({ no: 0, start: '', count: 0, max: '' }, ids);
  const chunks: Array<{ _id: string; stream: string; no: number; start: string; base: number }> = [];
  for (let i = 0; i < ids.length; i++)
    if (placed.chunks[i]! > 0 && placed.chunks[i] !== placed.chunks[i - 1]) chunks.push({ _id: chunkId(convId, placed.chunks[i]!), stream: convId, no: placed.chunks[i]!, start: ids[i]!, base: i });
  const sent: Record<string, number> = {};
  for (const s of senders) sent[s] = (sent[s] ?? 0) + 1;
  return {
    placed: placed.chunks,
    chunks,
    conversation: { chunkNo: placed.open.no, chunkStart: placed.open.start, chunkBase: ids.length - placed.open.count, msgCount: ids.length, sent, lastMessageId: ids.at(-1) ?? null },
  };
}

/** Seeds `count` messages into each group (round robin over its members) in the stored shape. */
async function seedHistory(ctx: BenchContext, groups: SeededGroup[], count: number, tag: string, deadline: number): Promise<number> {
  const { Message, Conversation, Chunk } = ctx.mongo.models;
  let stored = 0;
  for (const g of groups) {
    if (performance.now() > deadline) break;
    const messages = buildMessages([g], count, `${tag}-${g.id}`);
    const shape = storedShape(g.id, messages.map((m) => m.id), messages.map((m) => m.senderId));
    const docs: Doc[] = messages.map((m, i) => toMessageDoc(m, { chunk: shape.placed[i]! }));
    const batches = Array.from({ length: Math.ceil(docs.length / 5000) }, (_, i) => docs.slice(i * 5000, (i + 1) * 5000));
    await eachLimit(batches, 2, async (b) => {
      await Message.collection.insertMany(b as never[], { ordered: false });
    });
    if (shape.chunks.length) await Chunk.collection.insertMany(shape.chunks as never[], { ordered: false });
    await Conversation.updateOne({ _id: g.id }, { $set: { ...shape.conversation, updatedAt: new Date() } });
    stored += docs.length;
  }
  return stored;
}

async function time(url: string, token: string, n: number, warm = 5): Promise<{ median: number | null; p99: number | null }> {
  const once = async () => {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < warm; i++) await once();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(await once());
  return { median: median(ms), p99: percentile(ms, 99) };
}

export async function history(ctx: BenchContext): Promise<ScenarioResult> {
  const base: ScenarioResult = { name: 'history', title: 'History and conversation list at size', params: {}, tables: [], targets: [], cpu: [], charts: [], notes: [], raw: null };
  const storeTarget = ctx.quick ? 200_000 : 1_000_000;
  const n = ctx.quick ? 20 : 50;
  const t0 = performance.now();
  // Seeding gets about five minutes; the store is as large as fits, and the report says how large.
  const deadline = t0 + (ctx.quick ? 90_000 : 300_000);

  // The three measured conversations, each between two users.
  const pairs = await seedUsersAndGroups(ctx.mongo, 'hs', 2 * SIZES.length, 2);
  const sized = SIZES.map((size, i) => ({ size, group: pairs.groups[i]! }));
  ctx.log(`history: seeding conversations of ${SIZES.join(', ')} messages`);
  let stored = 0;
  for (const s of sized) stored += await seedHistory(ctx, [s.group], s.size, `hs${s.size}`, Infinity);

  // The list: one user in 50 groups of two, each with 20 messages from the other member, 15 of them unread.
  const listUsers = await seedUsersAndGroups(ctx.mongo, 'hl', 51, 51);
  // Only the users are wanted: the group seeded with them would be a 51st conversation.
  await ctx.mongo.models.Conversation.deleteOne({ _id: listUsers.groups[0]!.id });
  const reader = listUsers.userIds[0]!;
  const now = new Date();
  const listConvs: SeededGroup[] = listUsers.userIds.slice(1).map((other) => ({ id: new mongoose.Types.ObjectId().toString(), memberIds: [reader, other] }));
  await ctx.mongo.models.Conversation.insertMany(
    listConvs.map((c, i) => ({ _id: new mongoose.Types.ObjectId(c.id), type: 'group', title: `list ${i}`, memberIds: c.memberIds, admins: [reader], uniqueKey: `group:bench-list-${c.id}`, lastMessageId: null, createdAt: now, updatedAt: now, ...listShape.conversation })),
    { lean: true },
  );
  for (const c of listConvs) {
    const messages = buildMessages([{ id: c.id, memberIds: [c.memberIds[1]!] }], 20, `hl-${c.id}`);
    const shape = storedShape(c.id, messages.map((m) => m.id), messages.map((m) => m.senderId));
    await ctx.mongo.models.Message.collection.insertMany(messages.map((m, i) => toMessageDoc(m, { chunk: shape.placed[i]! })) as never[]);
    await ctx.mongo.models.Conversation.updateOne({ _id: c.id }, { $set: { ...shape.conversation, ...listShape.last(messages.at(-1)!), updatedAt: new Date() } });
    await ctx.mongo.models.ReadPosition.create({ conversationId: c.id, userId: reader, messageId: messages[4]!.id, count: 5, sent: 0, ...listShape.position(c.memberIds) });
    stored += messages.length;
  }

  // The rest of the store: conversations of 10,000 messages until the target or the deadline.
  const fillerSize = 10_000;
  const fill = Math.max(0, Math.ceil((storeTarget - stored - 111_000) / fillerSize));
  const filler = await seedUsersAndGroups(ctx.mongo, 'hf', 2 * fill, 2);
  ctx.log(`history: filling the store towards ${storeTarget} messages (${fill} conversations of ${fillerSize})`);
  stored += await seedHistory(ctx, filler.groups, fillerSize, 'hf', deadline);
  const seedS = (performance.now() - t0) / 1000;
  ctx.log(`history: ${stored} messages seeded in ${seedS.toFixed(0)} s`);
  base.params = { conversations: SIZES, storeMessages: stored, storeTarget, seedSeconds: round(seedS, 0), requestsPerRead: n };
  if (stored < storeTarget) base.notes.push(`Seeding stopped at ${stored} messages of the ${storeTarget} aimed at, after ${Math.round(seedS)} s (the time budget).`);
  await ctx.settle('history reads');

  const tokens = await mintTokens(ctx.keys, sized.map((s) => s.group.memberIds[0]!));
  const api = `${ctx.stack.baseUrl}/api/db`;
  const rows: Array<Array<string | number | null>> = [];
  const results: Record<string, Record<number, { median: number | null; p99: number | null }>> = { newest: {}, back90: {}, around: {} };
  for (const [i, s] of sized.entries()) {
    const pick = async (frac: number) => {
      // The id at that depth: its chunk holds it (one equality read), sorted in memory.
      const index = Math.floor(s.size * frac);
      const docs = await ctx.mongo.models.Message.find({ chunkId: chunkId(s.group.id, Math.floor(index / 100)) }, { _id: 1 }).lean<Array<{ _id: string }>>();
      return docs.map((d) => d._id).sort()[index % 100]!;
    };
    const [back, mid] = await Promise.all([pick(0.1), pick(0.5)]);
    const t = tokens[i]!;
    results.newest![s.size] = await time(`${api}/conversations/${s.group.id}/messages?limit=50`, t, n);
    results.back90![s.size] = await time(`${api}/conversations/${s.group.id}/messages?limit=50&before=${back}`, t, n);
    results.around![s.size] = await time(`${api}/conversations/${s.group.id}/messages?limit=50&around=${mid}`, t, n);
  }
  for (const extra of extraReads)
    for (const r of extra({ largest: sized.at(-1)!.group, words: { rare: '12345', common: 'benchmark' } })) {
      const [t] = await mintTokens(ctx.keys, [sized.at(-1)!.group.memberIds[0]!]);
      // Few samples: a common word's search reads every match today (seconds at 100,000).
      results[r.name] = { [SIZES.at(-1)!]: await time(`${api}${r.path}`, t!, 5, 1) };
    }
  const [readerToken] = await mintTokens(ctx.keys, [reader]);
  const list = await time(`${api}/conversations`, readerToken!, n);
  const check = (await (await fetch(`${api}/conversations`, { headers: { authorization: `Bearer ${readerToken}` } })).json()) as { conversations: Array<{ unreadCount: number }> };
  if (!(check.conversations.length === 50 && check.conversations.every((c) => c.unreadCount === 15))) base.notes.push('GET /conversations did not answer 50 conversations with 15 unread each.');

  const names: Record<string, string> = { newest: 'newest page (limit 50)', back90: 'page 90% back (before=, limit 50)', around: 'around= (limit 50)' };
  for (const [key, bySize] of Object.entries(results)) {
    const one = bySize[1_000]?.median ?? null;
    for (const size of SIZES)
      if (bySize[size]) rows.push([names[key] ?? key, size, round(bySize[size]!.median, 1), round(bySize[size]!.p99, 1), one ? round((bySize[size]!.median ?? 0) / one, 2) : null]);
    const big = bySize[100_000]?.median ?? null;
    if (names[key]) {
      base.targets.push(evaluate({ name: `${names[key]}: 100k vs 1k`, kind: 'lower', target: 1.5 }, big, one));
      base.targets.push(evaluate({ name: `${names[key]}: 100k median`, kind: 'abs-max', target: 50, unit: 'ms' }, big));
    }
  }
  rows.push([`GET /conversations (50 unread conversations, ${stored} messages in the store)`, '–', round(list.median, 1), round(list.p99, 1), null]);
  for (const key of ['search, rare word', 'search, common word'])
    base.targets.push(evaluate({ name: `${key} (${stored} messages in the store): median`, kind: 'abs-max', target: 150, unit: 'ms' }, results[key]?.[SIZES.at(-1)!]?.median ?? null));
  base.targets.push(evaluate({ name: 'GET /conversations, 50 unread: median', kind: 'abs-max', target: 50, unit: 'ms' }, list.median));
  base.tables.push({ title: `Through the ingress, ${n} requests each after 5 warm-up ones, one at a time`, columns: ['read', 'messages in the conversation', 'median ms', 'p99 ms', '× the 1,000 case'], rows });
  base.raw = { results, list, stored, seedSeconds: seedS };
  return base;
}
