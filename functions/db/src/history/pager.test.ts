import { describe, expect, it } from 'vitest';
import type { Message } from '@chat/shared/models/types';
import { memoized, pageAfter, pageAround, pageBefore, type ChunkSource } from './pager.ts';

const id = (n: number) => n.toString().padStart(4, '0');
const msg = (n: number) => ({ id: id(n) }) as Message;

/** Chunks given as lists of message numbers; counts the reads each page makes. */
function source(chunks: number[][]) {
  const reads: number[] = [];
  const src: ChunkSource = {
    openNo: chunks.length - 1,
    read: async (no) => {
      reads.push(no);
      return (chunks[no] ?? []).map(msg);
    },
    locate: async (anchor) => {
      for (let no = chunks.length - 1; no > 0; no--) if (anchor >= id(chunks[no]![0]!)) return no;
      return 0;
    },
  };
  return { src: memoized(src), reads };
}
const ids = (p: { messages: Message[] }) => p.messages.map((m) => Number(m.id));

describe('pageBefore', () => {
  const chunks = [
    [1, 2, 3],
    [4, 5, 6],
    [7],
  ];
  it('the newest page spans the open chunk and those before it, oldest first, hasMore exact', async () => {
    const { src } = source(chunks);
    const p = await pageBefore(src, undefined, 4);
    expect(ids(p)).toEqual([4, 5, 6, 7]);
    expect(p.hasMore).toBe(true);
    expect((await pageBefore(source(chunks).src, undefined, 7)).hasMore).toBe(false);
  });
  it('a page ending exactly at a chunk edge still knows whether more is before it', async () => {
    const p = await pageBefore(source(chunks).src, id(4), 3);
    expect(ids(p)).toEqual([1, 2, 3]);
    expect(p.hasMore).toBe(false);
    const q = await pageBefore(source(chunks).src, id(7), 3);
    expect(ids(q)).toEqual([4, 5, 6]);
    expect(q.hasMore).toBe(true);
  });
  it('a single message; and nothing before the first one', async () => {
    expect(await pageBefore(source([[1]]).src, undefined, 50)).toEqual({ messages: [msg(1)], hasMore: false });
    expect(await pageBefore(source(chunks).src, id(1), 5)).toEqual({ messages: [], hasMore: false });
  });
  it('an empty stream', async () => {
    expect(await pageBefore(source([[]]).src, undefined, 5)).toEqual({ messages: [], hasMore: false });
  });
  it('reads a bounded number of chunks, however long the stream', async () => {
    const long = Array.from({ length: 1000 }, (_, c) => Array.from({ length: 100 }, (_, k) => c * 100 + k + 1));
    const { src, reads } = source(long);
    const p = await pageBefore(src, id(50_050), 100);
    expect(ids(p)[0]).toBe(49_950);
    expect(new Set(reads).size).toBeLessThanOrEqual(3);
  });
});

describe('pageAfter', () => {
  const chunks = [[1, 2], [3, 4], [5]];
  it('catches up across chunk edges with an exact hasMore', async () => {
    const p = await pageAfter(source(chunks).src, id(1), 3);
    expect(ids(p)).toEqual([2, 3, 4]);
    expect(p.hasMore).toBe(true);
    const q = await pageAfter(source(chunks).src, id(2), 3);
    expect(ids(q)).toEqual([3, 4, 5]);
    expect(q.hasMore).toBe(false);
  });
  it('an id not stored (e.g. above the newest) pages from where it would be', async () => {
    expect(await pageAfter(source(chunks).src, id(9), 3)).toEqual({ messages: [], hasMore: false });
    expect(ids(await pageAfter(source(chunks).src, '0', 10))).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('pageAround', () => {
  const chunks = [[1, 2, 3], [4, 5, 6], [7, 8]];
  it('centres on the message, across chunks, with exact flags on both sides', async () => {
    const p = await pageAround(source(chunks).src, msg(4), 1, 3);
    expect(ids(p)).toEqual([3, 4, 5]);
    expect([p.hasMoreBefore, p.hasMoreAfter]).toEqual([true, true]);
  });
  it('at either end of the history, the other side fills the page', async () => {
    const first = await pageAround(source(chunks).src, msg(1), 0, 5);
    expect(ids(first)).toEqual([1, 2, 3, 4, 5]);
    expect([first.hasMoreBefore, first.hasMoreAfter]).toEqual([false, true]);
    const last = await pageAround(source(chunks).src, msg(8), 2, 5);
    expect(ids(last)).toEqual([4, 5, 6, 7, 8]);
    expect([last.hasMoreBefore, last.hasMoreAfter]).toEqual([true, false]);
  });
  it('limit 1 is the message alone, and still says what is on either side', async () => {
    const p = await pageAround(source(chunks).src, msg(5), 1, 1);
    expect(ids(p)).toEqual([5]);
    expect([p.hasMoreBefore, p.hasMoreAfter]).toEqual([true, true]);
  });
});
