import { eachLimit } from '@chat/shared/concurrency';
import { chunkId } from '@chat/shared/repositories/chunks';
import { ConversationsRepository, ReadPositionsRepository } from '@chat/shared/repositories/conversations';
import { asStored, toMessageDoc } from '@chat/shared/repositories/messages';
import { UsersRepository } from '@chat/shared/repositories/users';
import { matches, parseQuery } from '@chat/shared/search/terms';
import { ChunkPlacer, type OpenedChunk, type StreamStore } from '../../functions/db/src/history/placer.ts';
import { psql } from '../../scripts/stack/infra.ts';
import type { BenchContext, CpuPhase, ScenarioResult } from '../lib/context.ts';
import { cpuWindow } from '../lib/procstat.ts';
import { explainRequests } from '../lib/explain.ts';
import { bulkLoad, checkEncoding, tableOf, type LoadReport } from '../lib/ferret-load.ts';
import { buildMessages, mintTokens, seedUsersAndGroups, type SeededGroup } from '../lib/seed.ts';
import { evaluate, median, percentile, round } from '../lib/stats.ts';

/**
 * History reads as a store grows: conversations of 1,000, 10,000 and 100,000 messages, and a
 * store of (up to) 1,000,000 messages, seeded straight into the store in the shape the db function
 * writes (chunks placed by its own placer, records written by its repositories). Then, through the
 * ingress on a warm stack: the newest page, a page 90% back, `around=`, and GET /conversations
 * for a member of 50 conversations that all have unread messages. Each read is reported as a
 * ratio to the same read at 1,000 messages.
 */
const SIZES = [1_000, 10_000, 100_000];

/**
 * More reads on the same seeded store, timed for a member of the largest conversation. Search:
 * every seeded body says "benchmark message <i>: the quick brown fox…", so "benchmark" matches
 * every message of it and "12345" (a word prefix of 5) only message 12345 of its 100,000.
 */
const extraReads: Array<(seeded: { largest: SeededGroup; words: { rare: string; common: string } }) => Array<{ name: string; path: string }>> = [
  ({ words }) => [
    { name: 'search, rare word', path: `/search?q=${words.rare}` },
    { name: 'search, common word', path: `/search?q=${words.common}` },
  ],
];

type Doc = ReturnType<typeof toMessageDoc>;

/**
 * The db function's chunk placer, on a store that keeps the chunks it opens in memory (they are
 * inserted in bulk afterwards): each conversation's messages placed as one batch into an empty
 * stream, which gives each message its chunk and each chunk its start and base as live storage would.
 */
function memoryPlacer() {
  const opened = new Map<string, OpenedChunk & { stream: string }>();
  const store: StreamStore = {
    load: async () => ({ open: { no: 0, start: '', count: 0, max: '' }, base: 0 }),
    open: async (stream, next) => {
      opened.set(chunkId(stream, next.no), { ...next, stream });
      return next;
    },
    setOpen: async () => undefined,
    startOf: async (stream, no) => (no <= 0 ? '' : opened.get(chunkId(stream, no))!.start),
    find: async (stream, no) => opened.get(chunkId(stream, no)) ?? null,
  };
  return {
    placer: new ChunkPlacer(store),
    /** The chunk documents opened so far, as ChunksRepository.open writes them. */
    chunkDocs: () => [...opened.entries()].map(([_id, c]) => ({ _id, stream: c.stream, no: c.no, start: c.start, base: c.base })),
  };
}

/** One conversation to seed: `count` messages round robin over `senders`. */
interface Planned {
  group: SeededGroup;
  senders: string[];
  count: number;
  tag: string;
  /** Filler: dropped once the seed's deadline has passed. */
  optional?: boolean;
  /** Keep the seeded ids and bodies, to check what the product answers. */
  keep?: boolean;
}

interface Seeded {
  ids: string[];
  bodies: string[];
}

const BATCH = 5000;

/**
 * Seeds the planned conversations in the stored shape: their messages as one stream of batches
 * into the store, then their chunks through the driver (a few thousand small documents) and each
 * conversation's record through the db function's repository. On FerretDB over PostgreSQL the
 * messages are COPYed into its table (bench/lib/ferret-load.ts), after the first few went through
 * the driver to check that the rows written are the rows FerretDB writes; elsewhere they go
 * through insertMany as before.
 */
async function seedHistory(ctx: BenchContext, conversations: ConversationsRepository, plan: Planned[], deadline: number) {
  const { Message, Chunk } = ctx.mongo.models;
  const kept = new Map<string, Seeded>();
  const { placer, chunkDocs } = memoryPlacer();
  const touches: Array<{ id: string; touch: Parameters<ConversationsRepository['touchLastMessage']>[1] }> = [];
  let stored = 0;
  let sample = true;
  const pg = ctx.stack.postgres;
  const now = new Date();
  async function* batches(): AsyncGenerator<Doc[]> {
    for (const p of plan) {
      if (p.optional && performance.now() > deadline) break;
      const messages = buildMessages([{ id: p.group.id, memberIds: p.senders }], p.count, `${p.tag}-${p.group.id}`);
      const ids = messages.map((m) => m.id);
      const placed = await placer.place(p.group.id, ids);
      if (p.keep) kept.set(p.group.id, { ids, bodies: messages.map((m) => m.body) });
      const sent: Record<string, number> = {};
      for (const m of messages) sent[m.senderId] = (sent[m.senderId] ?? 0) + 1;
      // The db function's write after storing them: counters, open chunk and the copy of the last message.
      touches.push({ id: p.group.id, touch: { messageId: ids.at(-1)!, at: now, stored: ids.length, sent, open: placed.open, last: asStored(messages.at(-1)!) } });
      for (let i = 0; i < messages.length; i += BATCH) {
        let docs: Doc[] = messages.slice(i, i + BATCH).map((m, j) => toMessageDoc(m, { chunk: placed.chunks[i + j]! }));
        if (sample && pg) {
          sample = false;
          const through = docs.slice(0, 3);
          await Message.collection.insertMany(through as never[], { ordered: false });
          await checkEncoding(pg, Message.collection.collectionName, through);
          docs = docs.slice(through.length);
        }
        stored += messages.slice(i, i + BATCH).length;
        yield docs;
      }
    }
  }
  let load: LoadReport | null = null;
  if (pg) load = await bulkLoad(pg, Message.collection.collectionName, batches(), ctx.log);
  else for await (const docs of batches()) await Message.collection.insertMany(docs as never[], { ordered: false });
  const chunks = chunkDocs();
  for (let i = 0; i < chunks.length; i += BATCH) await Chunk.collection.insertMany(chunks.slice(i, i + BATCH) as never[], { ordered: false });
  await eachLimit(touches, 4, (t) => conversations.touchLastMessage(t.id, t.touch));
  return { stored, kept, load };
}

/** What a check found wrong, to report all of them at once. */
function expectSame(failures: string[], what: string, got: readonly string[], want: readonly string[]): void {
  if (got.length === want.length && got.every((id, i) => id === want[i])) return;
  const at = got.findIndex((id, i) => id !== want[i]);
  failures.push(`${what}: answered ${got.length} ids, expected ${want.length}; first difference at ${at < 0 ? Math.min(got.length, want.length) : at} (${got[at] ?? '–'} vs ${want[at] ?? '–'})`);
}

interface Timed {
  median: number | null;
  p99: number | null;
  /** CPU milliseconds per request of each process group serving it (the stack's own PostgreSQL backends only). */
  cpuMsPerRequest: Record<string, number>;
}

/**
 * `n` requests one at a time after `warm` unmeasured ones, with the CPU each serving process
 * spent over them: on a shared machine the medians move with others' load, the CPU per request
 * much less, and it says which process a read's time goes to.
 */
/** One GET through the ingress, in ms; throws unless it answers 200. */
async function timedGet(url: string, token: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return performance.now() - t0;
}

async function time(ctx: BenchContext, phases: CpuPhase[], phase: string, url: string, token: string, n: number, warm = 5): Promise<Timed> {
  const once = () => timedGet(url, token);
  for (let i = 0; i < warm; i++) await once();
  const pg = ctx.stack.postgres;
  // FerretDB's pool keeps its connections, so the backends serving the requests are these.
  const backends = pg ? (await psql('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()', pg.database)).split('\n').filter(Boolean).map(Number) : [];
  const end = cpuWindow([ctx.stackGroup('db', 'db function'), ctx.stackGroup('ferretdb'), ctx.stackGroup('nginx'), { name: 'postgresql (this stack)', side: 'infra (shared)', pids: () => backends }]);
  const t0 = performance.now();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(await once());
  const samples = end();
  phases.push({ phase, seconds: round((performance.now() - t0) / 1000, 1)!, samples });
  return { median: median(ms), p99: percentile(ms, 99), cpuMsPerRequest: Object.fromEntries(samples.map((x) => [x.name, round((x.cpuSeconds * 1000) / n, 1)!])) };
}

export async function history(ctx: BenchContext): Promise<ScenarioResult> {
  const base: ScenarioResult = { name: 'history', title: 'History and conversation list at size', params: {}, tables: [], targets: [], cpu: [], charts: [], notes: [], raw: null };
  const storeTarget = ctx.quick ? 200_000 : 1_000_000;
  const n = ctx.quick ? 20 : 50;
  const t0 = performance.now();
  // Seeding gets about five minutes; the store is as large as fits, and the report says how large.
  // The deadline stops the filler; the indexes are built after it, within the same budget.
  const budgetS = ctx.quick ? 90 : 300;
  const deadline = t0 + budgetS * 1000 * 0.7;

  const conversations = new ConversationsRepository(ctx.mongo.models.Conversation);
  // The three measured conversations, each between two users.
  const pairs = await seedUsersAndGroups(ctx.mongo, 'hs', 2 * SIZES.length, 2);
  const sized = SIZES.map((size, i) => ({ size, group: pairs.groups[i]! }));

  // The list: one user in 50 groups of two, each with 20 messages from the other member, 15 of them unread.
  const listUsers = await seedUsersAndGroups(ctx.mongo, 'hl', 51, 51);
  // Only the users are wanted: the group seeded with them would be a 51st conversation.
  await ctx.mongo.models.Conversation.deleteOne({ _id: listUsers.groups[0]!.id });
  const reader = listUsers.userIds[0]!;
  // Created as the db function creates a group (an ObjectId _id, its list flags), one at a time.
  const listConvs: SeededGroup[] = [];
  for (const [i, other] of listUsers.userIds.slice(1).entries()) {
    const c = await conversations.createGroup(reader, `list ${i}`, [other]);
    listConvs.push({ id: c.id, memberIds: c.memberIds });
  }

  // The rest of the store: conversations of 10,000 messages up to the target (or the deadline).
  const fillerSize = 10_000;
  const planned = SIZES.reduce((a, b) => a + b, 0) + listConvs.length * 20;
  const fill = Math.max(0, Math.ceil((storeTarget - planned) / fillerSize));
  const filler = await seedUsersAndGroups(ctx.mongo, 'hf', 2 * fill, 2);
  const plan: Planned[] = [
    ...sized.map((s) => ({ group: s.group, senders: s.group.memberIds, count: s.size, tag: `hs${s.size}`, keep: true })),
    ...listConvs.map((c) => ({ group: c, senders: [c.memberIds[1]!], count: 20, tag: 'hl', keep: true })),
    ...filler.groups.map((g) => ({ group: g, senders: g.memberIds, count: fillerSize, tag: 'hf', optional: true })),
  ];
  ctx.log(`history: seeding conversations of ${SIZES.join(', ')} messages, 50 of 20, and ${fill} of ${fillerSize} towards ${storeTarget} messages`);
  const seed = await seedHistory(ctx, conversations, plan, deadline);
  const stored = seed.stored;
  // The reader has read 5 of each conversation's 20 (none of them its own), written as the db function writes a read.
  const reads = new ReadPositionsRepository(ctx.mongo.models.ReadPosition);
  await eachLimit(listConvs, 4, async (c) => {
    await reads.advance(c.id, reader, { messageId: seed.kept.get(c.id)!.ids[4]!, count: 5, sent: 0, mentioned: 0, sys: 0 }, c.memberIds);
  });
  // Fresh tables have no statistics until autovacuum gets to them; the planner then guesses sizes
  // and may scan. Measured reads must see the store as it will be once it has them.
  const pg = ctx.stack.postgres;
  const tA = performance.now();
  if (pg) await psql('ANALYZE', pg.database);
  const analyzeS = (performance.now() - tA) / 1000;
  const seedS = (performance.now() - t0) / 1000;
  const storeBytes = pg ? Number((await psql(`SELECT pg_database_size(current_database())`, pg.database)).trim()) : null;
  const messagesBytes = pg ? Number((await psql(`SELECT pg_total_relation_size('"${pg.schema}"."${await tableOf(pg, 'messages')}"')`, pg.database)).trim()) : null;
  ctx.log(
    `history: ${stored} messages seeded in ${seedS.toFixed(0)} s` +
      (seed.load ? ` (COPY ${seed.load.copySeconds.toFixed(0)} s, indexes ${Object.values(seed.load.indexSeconds).reduce((a, b) => a + b, 0).toFixed(0)} s, ANALYZE ${analyzeS.toFixed(0)} s)` : '') +
      (storeBytes ? `; database ${(storeBytes / 2 ** 20).toFixed(0)} MiB, messages ${(messagesBytes! / 2 ** 20).toFixed(0)} MiB with indexes` : ''),
  );
  base.params = {
    conversations: SIZES,
    storeMessages: stored,
    storeTarget,
    seedSeconds: round(seedS, 0),
    seedBudgetSeconds: budgetS,
    seedMethod: seed.load ? 'COPY into FerretDB\'s PostgreSQL table, non-unique indexes built after' : 'insertMany through FerretDB',
    ...(seed.load ? { copySeconds: round(seed.load.copySeconds, 1), indexBuildSeconds: Object.fromEntries(Object.entries(seed.load.indexSeconds).map(([k, v]) => [k, round(v, 1)])), analyzeSeconds: round(analyzeS, 1) } : {}),
    ...(storeBytes ? { databaseMiB: round(storeBytes / 2 ** 20, 0), messagesTableMiB: round(messagesBytes! / 2 ** 20, 0) } : {}),
    requestsPerRead: n,
  };
  if (stored < storeTarget) base.notes.push(`Seeding stopped at ${stored} messages of the ${storeTarget} aimed at, after ${Math.round(seedS)} s (the time budget).`);
  await ctx.settle('history reads');

  const tokens = await mintTokens(ctx.keys, sized.map((s) => s.group.memberIds[0]!));
  const [readerToken] = await mintTokens(ctx.keys, [reader]);
  const api = `${ctx.stack.baseUrl}/api/db`;
  const get = async <T>(path: string, token: string): Promise<T> => {
    const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  const idsOf = (r: { messages: Array<{ id: string }> }) => r.messages.map((m) => m.id);
  const words = { rare: '12345', common: 'benchmark' };

  // The seeded store must read back as seeded, through the product, or its timings mean nothing.
  const failures: string[] = [];
  for (const [i, s] of sized.entries()) {
    const { ids } = seed.kept.get(s.group.id)!;
    const t = tokens[i]!;
    const back = Math.floor(s.size * 0.1);
    const mid = Math.floor(s.size * 0.5);
    expectSame(failures, `${s.size}: newest page`, idsOf(await get(`/conversations/${s.group.id}/messages?limit=50`, t)), ids.slice(-50));
    expectSame(failures, `${s.size}: page before message ${back}`, idsOf(await get(`/conversations/${s.group.id}/messages?limit=50&before=${ids[back]}`, t)), ids.slice(back - 50, back));
    // pageAround: 24 before the anchor, the anchor, 25 after (functions/db/src/history/pager.ts).
    expectSame(failures, `${s.size}: around message ${mid}`, idsOf(await get(`/conversations/${s.group.id}/messages?limit=50&around=${ids[mid]}`, t)), ids.slice(mid - 24, mid + 26));
  }
  const largest = sized.at(-1)!;
  const big = seed.kept.get(largest.group.id)!;
  const newestFirst = (want: (body: string) => boolean) => big.ids.filter((_, i) => want(big.bodies[i]!)).reverse().slice(0, 50);
  const expected = { rare: newestFirst((b) => matches(b, parseQuery(words.rare))), common: newestFirst((b) => matches(b, parseQuery(words.common))) };
  for (const k of ['rare', 'common'] as const) expectSame(failures, `search "${words[k]}" as a member of the ${largest.size} conversation`, idsOf(await get(`/search?q=${words[k]}`, tokens.at(-1)!)), expected[k]);
  const listed = await get<{ conversations: Array<{ id: string; unreadCount: number }> }>('/conversations', readerToken!);
  const wrongUnread = listed.conversations.filter((c) => c.unreadCount !== 15).map((c) => `${c.id}: ${c.unreadCount}`);
  if (listed.conversations.length !== 50 || wrongUnread.length) failures.push(`GET /conversations for the list's reader: ${listed.conversations.length} conversations (50 expected), unread counts other than 15: ${wrongUnread.slice(0, 5).join(', ') || 'none'}`);
  if (failures.length) {
    for (const f of failures) ctx.log(`history: CHECK FAILED: ${f}`);
    throw new Error(`the seeded store does not read back as seeded (${failures.length} checks failed): ${failures.join('; ')}`);
  }
  ctx.log(`history: the seeded store reads back as seeded (pages, around, search: ${expected.rare.length} rare and ${expected.common.length} common matches, 50 conversations with 15 unread)`);

  const rows: Array<Array<string | number | null>> = [];
  const results: Record<string, Record<number, Timed>> = { newest: {}, back90: {}, around: {} };
  for (const [i, s] of sized.entries()) {
    const { ids } = seed.kept.get(s.group.id)!;
    const t = tokens[i]!;
    results.newest![s.size] = await time(ctx, base.cpu, `newest page, ${s.size}`, `${api}/conversations/${s.group.id}/messages?limit=50`, t, n);
    results.back90![s.size] = await time(ctx, base.cpu, `page 90% back, ${s.size}`, `${api}/conversations/${s.group.id}/messages?limit=50&before=${ids[Math.floor(s.size * 0.1)]}`, t, n);
    results.around![s.size] = await time(ctx, base.cpu, `around=, ${s.size}`, `${api}/conversations/${s.group.id}/messages?limit=50&around=${ids[Math.floor(s.size * 0.5)]}`, t, n);
  }
  for (const extra of extraReads)
    for (const r of extra({ largest: largest.group, words })) {
      results[r.name] = { [largest.size]: await time(ctx, base.cpu, r.name, `${api}${r.path}`, tokens.at(-1)!, n) };
    }
  const list = await time(ctx, base.cpu, 'GET /conversations, 50 unread', `${api}/conversations`, readerToken!, n);
  // The same list, each time right after someone's profile changed: the db function's profile
  // cache starts over and reads the 51 members again (docs/storage.md). The rename, straight to
  // the store, is not timed.
  const renamer = new UsersRepository(ctx.mongo.models);
  const afterRename: number[] = [];
  for (let i = 0; i < n; i++) {
    await renamer.setDisplayName(listUsers.userIds[1]!, `Renamed ${i}`);
    afterRename.push(await timedGet(`${api}/conversations`, readerToken!));
  }
  const listCold = { median: median(afterRename), p99: percentile(afterRename, 99) };
  ctx.log(`GET /conversations right after a profile change: median ${round(listCold.median, 1)} ms, p99 ${round(listCold.p99, 1)} ms`);

  // The same reads from here straight to FerretDB (no ingress, no db function): what one
  // statement costs end to end, against what PostgreSQL spends on it in the plans below. Timed
  // before those are switched on (auto_explain slows every statement), after a warm-up read.
  const { Message } = ctx.mongo.models;
  const oneBy = async (f: () => Promise<unknown>) => {
    await f();
    const ms: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await f();
      ms.push(performance.now() - t);
    }
    return round(median(ms), 2);
  };
  const direct = {
    messageById: await oneBy(() => Message.findById(big.ids.at(-1)).lean()),
    chunkOf100: await oneBy(() => Message.find({ chunkId: chunkId(largest.group.id, 500) }, { searchKeys: 0 }).lean()),
    chunkOf100WithKeys: await oneBy(() => Message.find({ chunkId: chunkId(largest.group.id, 500) }).lean()),
  };
  ctx.log(`direct to FerretDB, median of 30: one message by _id ${direct.messageById} ms, one chunk of 100 ${direct.chunkOf100} ms (${direct.chunkOf100WithKeys} ms with the search keys)`);

  // Why a read costs what it does: each statement FerretDB sent for it, with its plan and actual
  // times (after the timings: explaining slows every statement).
  const explained = await explainRequests(
    ctx.stack,
    [
      { name: 'GET /conversations (50 unread)', run: () => get('/conversations', readerToken!).then(() => undefined) },
      ...sized.flatMap((s, i) => (i === 1 ? [] : [{ name: `newest page, ${s.size} messages`, run: () => get(`/conversations/${s.group.id}/messages?limit=50`, tokens[i]!).then(() => undefined) }])),
      { name: `search "${words.common}"`, run: () => get(`/search?q=${words.common}`, tokens.at(-1)!).then(() => undefined) },
      { name: `search "${words.rare}"`, run: () => get(`/search?q=${words.rare}`, tokens.at(-1)!).then(() => undefined) },
    ],
    ctx.log,
  );
  if (typeof explained === 'string') base.notes.push(`No statement plans: ${explained}.`);
  else
    for (const e of explained)
      ctx.log(`explain: ${e.name}: ${e.statements} statements in ${e.wallMs.toFixed(0)} ms (SQL ${e.sqlMs.toFixed(1)} ms in all); ${e.shapes.map((x) => `${x.count}× ${x.medianMs.toFixed(2)} ms ${x.plan.split('\n')[0]}`).join('; ')}`);

  const cpuCell = (t: Timed) => ['db function', 'ferretdb', 'postgresql (this stack)', 'nginx'].map((g) => t.cpuMsPerRequest[g] ?? '–').join(' / ');
  const names: Record<string, string> = { newest: 'newest page (limit 50)', back90: 'page 90% back (before=, limit 50)', around: 'around= (limit 50)' };
  for (const [key, bySize] of Object.entries(results)) {
    const one = bySize[1_000]?.median ?? null;
    for (const size of SIZES)
      if (bySize[size]) rows.push([names[key] ?? key, size, round(bySize[size]!.median, 1), round(bySize[size]!.p99, 1), one ? round((bySize[size]!.median ?? 0) / one, 2) : null, cpuCell(bySize[size]!)]);
    const big = bySize[100_000]?.median ?? null;
    if (names[key]) {
      base.targets.push(evaluate({ name: `${names[key]}: 100k vs 1k`, kind: 'lower', target: 1.5 }, big, one));
      base.targets.push(evaluate({ name: `${names[key]}: 100k median`, kind: 'abs-max', target: 50, unit: 'ms' }, big));
    }
  }
  rows.push([`GET /conversations (50 unread conversations, ${stored} messages in the store)`, '–', round(list.median, 1), round(list.p99, 1), null, cpuCell(list)]);
  rows.push(['GET /conversations, each right after a profile change (members read again)', '–', round(listCold.median, 1), round(listCold.p99, 1), null, '–']);
  for (const key of ['search, rare word', 'search, common word'])
    base.targets.push(evaluate({ name: `${key} (${stored} messages in the store): median`, kind: 'abs-max', target: 150, unit: 'ms' }, results[key]?.[SIZES.at(-1)!]?.median ?? null));
  base.targets.push(evaluate({ name: 'GET /conversations, 50 unread: median', kind: 'abs-max', target: 50, unit: 'ms' }, list.median));
  base.tables.push({ title: `Through the ingress, ${n} requests each after 5 warm-up ones, one at a time`, columns: ['read', 'messages in the conversation', 'median ms', 'p99 ms', '× the 1,000 case', 'CPU ms per request: db function / FerretDB / PostgreSQL / nginx'], rows });
  base.raw = { results, list, listCold, stored, seedSeconds: seedS, load: seed.load, explained, direct };
  return base;
}
