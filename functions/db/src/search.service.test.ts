import { describe, expect, it } from 'vitest';
import type { Message } from '@chat/shared/models/types';
import type { ChunksRepository } from '@chat/shared/repositories/chunks';
import type { ConversationsRepository, SearchScope } from '@chat/shared/repositories/conversations';
import type { MessagesRepository, SearchHit } from '@chat/shared/repositories/messages';
import { indexTerms, termKey } from '@chat/shared/search/terms';
import { makeMessage } from '../../../test/fixtures.ts';
import { CHUNK_SIZE } from './history/chunker.ts';
import { SearchService } from './search.service.ts';

/**
 * The search loop's cost, on an in-memory store standing in for the repositories: what it reads
 * must follow the page it answers and the caller's conversations, not the history's size.
 */
let next = 0;
const id = () => (next++).toString(16).padStart(24, '0');

function store(sizes: Record<string, number>, body: (conv: string, i: number) => string, order: 'interleaved' | 'one after another' = 'interleaved') {
  const convs = new Map<string, Message[]>();
  const terms = new Map<string, Set<string>>();
  const termsOf = (m: Message) => terms.get(m.id) ?? terms.set(m.id, new Set(indexTerms(m.body))).get(m.id)!;
  const add = (conv: string, i: number) => {
    const list = convs.get(conv) ?? [];
    list.push(makeMessage(conv, 'u1', body(conv, i), { id: id() }));
    convs.set(conv, list);
  };
  // Interleaved in time: message i of every conversation, then i + 1, so ids mix across them.
  const max = Math.max(...Object.values(sizes));
  if (order === 'interleaved') for (let i = 0; i < max; i++) for (const [conv, n] of Object.entries(sizes)) if (i < n) add(conv, i);
  if (order === 'one after another') for (const [conv, n] of Object.entries(sizes)) for (let i = 0; i < n; i++) add(conv, i);
  const cost = { lookups: 0, docs: 0 };
  const hit = (conv: string, m: Message): SearchHit => ({ message: m, keys: new Set([...termsOf(m)].map((t) => termKey(conv, t))) });
  const messages = {
    async findBySearchTerm(conv: string, term: string, chunk?: number) {
      cost.lookups++;
      const list = (convs.get(conv) ?? []).filter((m, i) => (chunk === undefined || Math.floor(i / CHUNK_SIZE) === chunk) && termsOf(m).has(term));
      cost.docs += list.length;
      return list.map((m) => hit(conv, m));
    },
  } as unknown as MessagesRepository;
  const chunks = { startOf: async (conv: string, no: number) => (no === 0 ? '' : convs.get(conv)![no * CHUNK_SIZE]!.id) } as unknown as ChunksRepository;
  const scopes: SearchScope[] = [...convs].map(([conv, list]) => ({ id: conv, open: Math.floor((list.length - 1) / CHUNK_SIZE), msgCount: list.length, lastMessageId: list.at(-1)!.id }));
  const conversations = { searchScopesForMember: async () => scopes } as unknown as ConversationsRepository;
  const service = new SearchService({ conversations, messages, chunks, limit: 50 });
  const newest = (pred: (m: Message) => boolean) =>
    [...convs.values()]
      .flat()
      .filter(pred)
      .map((m) => m.id)
      .sort()
      .reverse();
  return { service, cost, newest };
}

describe('SearchService cost', () => {
  it('answers a word in every one of 20,000 messages from the newest chunk', async () => {
    const s = store({ big: 20_000 }, (_, i) => `benchmark message ${i}`);
    const found = await s.service.search('u1', 'benchmark');
    expect(found.map((m) => m.id)).toEqual(s.newest(() => true).slice(0, 50));
    expect(s.cost).toEqual({ lookups: 1, docs: CHUNK_SIZE });
  });

  it('answers a rare word with the newest chunk and one conversation-wide lookup', async () => {
    const s = store({ big: 20_000 }, (_, i) => `benchmark message ${i}${i % 2_000 === 7 ? ' zanzibar' : ''}`);
    const found = await s.service.search('u1', 'zanzibar');
    expect(found.map((m) => m.id)).toEqual(s.newest((m) => m.body.includes('zanzibar')));
    expect(s.cost.lookups).toBe(2);
    expect(s.cost.docs).toBe(10);
  });

  it('reads a word in 1 of 50 messages in growing runs of chunks, about a page of documents', async () => {
    const s = store({ big: 20_000 }, (_, i) => `message ${i}${i % 50 === 0 ? ' sparse' : ''}`);
    const found = await s.service.search('u1', 'sparse');
    expect(found.map((m) => m.id)).toEqual(s.newest((m) => m.body.includes('sparse')).slice(0, 50));
    expect(s.cost.lookups).toBeLessThanOrEqual(31);
    expect(s.cost.docs).toBeLessThanOrEqual(62);
  });

  it('reads a rare word among a common prefix (quicksilver among quick) by its own longest prefix, in the chunk too', async () => {
    const s = store({ big: 20_000 }, (_, i) => `quick message ${i}${i % 2_000 === 7 ? ' quicksilver' : ''}`);
    const found = await s.service.search('u1', 'quicksilver');
    expect(found.map((m) => m.id)).toEqual(s.newest((m) => m.body.includes('quicksilver')));
    // The newest chunk by "quicksil" (no candidate: "quick" is another key), then the conversation
    // key: its 10 matches. A chunk keyed by its words' shortest prefix read 100 candidates here.
    expect(s.cost).toEqual({ lookups: 2, docs: 10 });
  });

  it('across 50 conversations, stops reading those whose chunks are all older than the page', async () => {
    const sizes = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`c${i}`, 300]));
    const s = store(sizes, (c, i) => `benchmark ${c} ${i}`, 'one after another');
    const found = await s.service.search('u1', 'benchmark');
    expect(found.map((m) => m.id)).toEqual(s.newest(() => true).slice(0, 50));
    // The eight most recently active conversations' open chunks in the first round; the page is
    // then known, and the other 42 conversations end below it.
    expect(s.cost.lookups).toBe(8);
  });

  it('across 50 conversations active at once, reads one chunk of each (each holds part of the page)', async () => {
    const sizes = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`c${i}`, 300]));
    const s = store(sizes, (c, i) => `benchmark ${c} ${i}`);
    const found = await s.service.search('u1', 'benchmark');
    expect(found.map((m) => m.id)).toEqual(s.newest(() => true).slice(0, 50));
    expect(s.cost.lookups).toBe(50);
  });

  it('pages with before=: each page is the next 50, none twice, reading about what it answers', async () => {
    const s = store({ a: 1_000, b: 300 }, (c, i) => `word ${c} ${i}`);
    const all = s.newest(() => true);
    let before: string | undefined;
    const seen: string[] = [];
    for (;;) {
      const page = await s.service.search('u1', 'word', undefined, { before });
      seen.push(...page.map((m) => m.id));
      if (page.length < 50) break;
      before = page.at(-1)!.id;
    }
    expect(seen).toEqual(all);
    s.cost.lookups = 0;
    await s.service.search('u1', 'word', undefined, { before: all[900] });
    expect(s.cost.lookups).toBeLessThanOrEqual(4);
  });
});
