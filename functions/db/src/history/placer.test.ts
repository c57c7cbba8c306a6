import { describe, expect, it } from 'vitest';
import { messageId } from '@chat/shared/ids';
import type { OpenChunk } from './chunker.ts';
import type { OpenFeed } from './open-feed.ts';
import { ChunkPlacer, type OpenedChunk, type StreamStore } from './placer.ts';

const id = (n: number) => n.toString().padStart(4, '0');

/** A stream record and its chunk docs in memory; `stored` plays msgCount. */
function memoryStore() {
  const rec = { no: 0, start: '', base: 0, stored: 0, last: '' };
  const chunks = new Map<number, OpenedChunk>();
  const store: StreamStore & { rec: typeof rec; chunks: typeof chunks; cas: number; finds: number } = {
    rec,
    chunks,
    cas: 0,
    finds: 0,
    load: async () => ({ open: { no: rec.no, start: rec.start, count: rec.stored - rec.base, max: rec.last } as OpenChunk, base: rec.base }),
    open: async (_s, next) => {
      store.cas++;
      if (!chunks.has(next.no)) chunks.set(next.no, next);
      return chunks.get(next.no)!;
    },
    setOpen: async (_s, c) => {
      if (c.no > rec.no) Object.assign(rec, { no: c.no, start: c.start, base: c.base });
    },
    startOf: async (_s, no) => chunks.get(no)?.start ?? '',
    find: async (_s, no) => {
      store.finds++;
      return chunks.get(no) ?? null;
    },
  };
  return store;
}

/** A feed that answers what the test sets, and records the intents and openings told to it. */
function fakeFeed(answer: 'trust' | 'stale' | 'unknown' = 'trust', canTell = true) {
  const feed: OpenFeed & { answer: typeof answer; told: string[] } = {
    answer,
    told: [],
    status: () => feed.answer,
    intend: async (s, no) => {
      feed.told.push(`intend ${s} ${no}`);
      return canTell;
    },
    opened: (s, no) => void feed.told.push(`opened ${s} ${no}`),
  };
  return feed;
}

const chunksOf = async (p: ChunkPlacer, stream: string, ids: string[]) => (await p.place(stream, ids)).chunks;

describe('ChunkPlacer', () => {
  it('writes the stream record only when a chunk closes', async () => {
    const store = memoryStore();
    const p = new ChunkPlacer(store, { size: 3 });
    expect(await chunksOf(p, 's', [1, 2].map(id))).toEqual([0, 0]);
    expect(store.cas).toBe(0);
    expect(await chunksOf(p, 's', [3, 4, 5].map(id))).toEqual([0, 1, 1]);
    expect(store.cas).toBe(1);
    // The new open chunk is handed to the caller, who records it with the counters.
    expect((await p.place('s', [id(6)])).open).toEqual({ no: 1, start: id(4), base: 3 });
    expect(store.chunks.get(1)).toEqual({ no: 1, start: id(4), base: 3 });
  });

  it('a chunk opened by someone who stopped before moving the record is adopted, not opened twice', async () => {
    const store = memoryStore();
    const p = new ChunkPlacer(store, { size: 2 });
    await chunksOf(p, 's', [id(1), id(2)]);
    store.chunks.set(1, { no: 1, start: id(3), base: 2 });
    Object.assign(store.rec, { stored: 3, last: id(3) });
    p.forget('s');
    expect(await chunksOf(p, 's', [id(4)])).toEqual([1]);
    expect(store.rec).toMatchObject({ no: 1, start: id(3) });
  });

  it('after a process died between opening a chunk and recording it, places into that chunk, not the one before', async () => {
    const store = memoryStore();
    await chunksOf(new ChunkPlacer(store, { size: 3 }), 's', [id(1), id(2)]);
    Object.assign(store.rec, { stored: 2, last: id(2) });
    // The dead process stored 0003 in chunk 0 and 0004 in chunk 1, which it opened, then died
    // before its counter write: the record still says chunk 0 with two messages.
    store.chunks.set(1, { no: 1, start: id(4), base: 3 });
    const restarted = new ChunkPlacer(store, { size: 3 });
    expect(await chunksOf(restarted, 's', [id(5)])).toEqual([1]);
    expect(store.rec).toMatchObject({ no: 1, start: id(4) });
  });

  it('a replica whose copy is fresh still sees a chunk another replica opened, and places into it', async () => {
    const store = memoryStore();
    const a = new ChunkPlacer(store, { size: 2, ttlMs: 60_000 });
    const b = new ChunkPlacer(store, { size: 2, ttlMs: 60_000 });
    await chunksOf(a, 's', [id(1)]);
    await chunksOf(b, 's', [id(2)]);
    // a opens chunk 1 with 0003 (its copy counts one; the store, both).
    Object.assign(store.rec, { stored: 2, last: id(2) });
    expect(await chunksOf(a, 's', [id(3), id(4)])).toEqual([0, 1]);
    Object.assign(store.rec, { no: 1, start: id(4), base: 3, stored: 4, last: id(4) });
    // b's copy still says chunk 0 with room: 0005 must go to chunk 1 all the same.
    expect(await chunksOf(b, 's', [id(5)])).toEqual([1]);
  });

  it('with a feed that vouches for the stream, places without reading the store, and tells of the chunks it opens', async () => {
    const store = memoryStore();
    const feed = fakeFeed('trust');
    const p = new ChunkPlacer(store, { size: 2, ttlMs: 60_000, feed });
    await chunksOf(p, 's', [id(1)]);
    const finds = store.finds;
    expect(await chunksOf(p, 's', [id(2), id(3)])).toEqual([0, 1]);
    expect(await chunksOf(p, 's', [id(4)])).toEqual([1]);
    expect(store.finds).toBe(finds);
    // Told before the insert, and after it.
    expect(feed.told).toEqual(['intend s 1', 'opened s 1']);
  });

  it('a feed that heard of a later chunk makes it reload; one that cannot vouch sends it to the store', async () => {
    const store = memoryStore();
    const feed = fakeFeed('trust');
    const a = new ChunkPlacer(store, { size: 2, ttlMs: 60_000, feed });
    const b = new ChunkPlacer(store, { size: 2, ttlMs: 60_000 });
    await chunksOf(a, 's', [id(1)]);
    await chunksOf(b, 's', [id(2)]);
    Object.assign(store.rec, { stored: 2, last: id(2) });
    expect(await chunksOf(b, 's', [id(3), id(4)])).toEqual([0, 1]);
    Object.assign(store.rec, { no: 1, start: id(4), base: 3, stored: 4, last: id(4) });
    // A feed that trusts a stale copy is wrong, and this shows the copy would be used as is:
    expect((await a.place('s', [])).open.no).toBe(0);
    feed.answer = 'stale';
    expect(await chunksOf(a, 's', [id(5)])).toEqual([1]);
    // Unknown: the store is read (no chunk after 1: the copy stands, and 0006 opens chunk 2).
    feed.answer = 'unknown';
    const finds = store.finds;
    expect(await chunksOf(a, 's', [id(6)])).toEqual([2]);
    expect(store.finds).toBe(finds + 1);
  });

  it('opens no chunk it could not tell the others of: the open chunk takes the messages past its size', async () => {
    const store = memoryStore();
    const feed = fakeFeed('trust', false);
    const p = new ChunkPlacer(store, { size: 2, ttlMs: 60_000, feed });
    expect(await chunksOf(p, 's', [1, 2, 3, 4].map(id))).toEqual([0, 0, 0, 0]);
    expect(store.chunks.size).toBe(0);
    expect(store.cas).toBe(0);
    expect(feed.told).toEqual(['intend s 1']);
    // Up to four times its size: then it opens all the same (Redis is likelier down for everyone).
    expect(await chunksOf(p, 's', [5, 6, 7].map(id))).toEqual([0, 0, 0]);
    expect(await chunksOf(p, 's', [id(8), id(9)])).toEqual([1, 1]);
    expect(store.chunks.get(1)).toMatchObject({ no: 1, start: id(8), base: 7 });
  });

  it('live traffic: a replica that has not heard of a new chunk yet still places what was in flight in its range', async () => {
    const clock = { t: 1_800_000_000_000 };
    const now = () => clock.t;
    const at = (ms: number) => messageId(clock.t + ms, '000000000001');
    const store = memoryStore();
    const trusting = fakeFeed('trust');
    const a = new ChunkPlacer(store, { size: 2, ttlMs: 60_000, now, floorMs: 500 });
    const b = new ChunkPlacer(store, { size: 2, ttlMs: 60_000, now, floorMs: 500, feed: trusting });
    const [m1, m2, m3, m4] = [at(-40), at(-30), at(-20), at(-10)];
    // b has a copy of the stream from before.
    await b.place('s', []);
    expect(await chunksOf(a, 's', [m1, m2])).toEqual([0, 0]);
    // a opens chunk 1 at a floor half a second ahead; m3, which opened it, stays in chunk 0.
    expect(await chunksOf(a, 's', [m3])).toEqual([0]);
    expect(store.chunks.get(1)).toMatchObject({ no: 1, start: messageId(clock.t + 500, '0'.repeat(12)) });
    // b has not heard yet (its feed still vouches for chunk 0): m4, sent before the floor, is right there.
    expect(await chunksOf(b, 's', [m4])).toEqual([0]);
    expect(m4 < store.chunks.get(1)!.start).toBe(true);
    // A message sent after the floor goes to chunk 1 once b knows of it.
    clock.t += 600;
    trusting.answer = 'stale';
    expect(await chunksOf(b, 's', [at(0)])).toEqual([1]);
  });

  it('opens several chunks in one batch, each with its base', async () => {
    const store = memoryStore();
    const p = new ChunkPlacer(store, { size: 2 });
    expect(await chunksOf(p, 's', [1, 2, 3, 4, 5].map(id))).toEqual([0, 0, 1, 1, 2]);
    expect([...store.chunks.values()]).toEqual([
      { no: 1, start: id(3), base: 2 },
      { no: 2, start: id(5), base: 4 },
    ]);
    expect((await p.place('s', [])).open).toEqual({ no: 2, start: id(5), base: 4 });
  });

  it('a late message goes to the closed chunk whose range holds it', async () => {
    const store = memoryStore();
    const p = new ChunkPlacer(store, { size: 2 });
    await chunksOf(p, 's', [10, 20, 30, 40, 50].map(id));
    expect(await chunksOf(p, 's', [id(35), id(15), id(60)])).toEqual([1, 0, 2]);
  });

  it('on a conflict (another replica opened the chunk first) reloads and places again', async () => {
    const store = memoryStore();
    const p = new ChunkPlacer(store, { size: 2, ttlMs: 60_000 });
    await chunksOf(p, 's', [id(1), id(2)]);
    // Another replica stored one more and opened chunk 1 at 0003 with it meanwhile.
    Object.assign(store.rec, { no: 1, start: id(3), base: 2, stored: 3, last: id(3) });
    store.chunks.set(1, { no: 1, start: id(3), base: 2 });
    expect(await chunksOf(p, 's', [id(5)])).toEqual([1]);
    expect(await chunksOf(p, 's', [id(6)])).toEqual([2]);
    expect(store.chunks.get(2)).toMatchObject({ no: 2, start: id(6) });
  });

  it('serialises placements of one stream, so concurrent batches never open the same chunk twice', async () => {
    const store = memoryStore();
    const p = new ChunkPlacer(store, { size: 2 });
    const got = await Promise.all([chunksOf(p, 's', [id(1), id(2), id(3)]), chunksOf(p, 's', [id(4), id(5)])]);
    expect(got).toEqual([
      [0, 0, 1],
      [1, 2],
    ]);
    expect([...store.chunks.keys()]).toEqual([1, 2]);
  });
});
