import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher } from './batcher.ts';

afterEach(() => vi.useRealTimers());

const make = (over: Partial<{ maxItems: number; maxBytes: number; maxWaitMs: number }> = {}) => {
  const out: string[][] = [];
  const b = new Batcher<string>({ maxItems: 3, maxBytes: 100, maxWaitMs: 5, size: (s) => s.length, flush: (x) => out.push(x), ...over });
  return { b, out };
};

describe('Batcher', () => {
  it('flushes as soon as maxItems are collected', () => {
    const { b, out } = make();
    ['a', 'b', 'c', 'd'].forEach((x) => b.add(x));
    expect(out).toEqual([['a', 'b', 'c']]);
    expect(b.size).toBe(1);
  });
  it('flushes a partial batch after maxWaitMs', () => {
    vi.useFakeTimers();
    const { b, out } = make();
    b.add('a');
    vi.advanceTimersByTime(4);
    expect(out).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(out).toEqual([['a']]);
  });
  it('never exceeds maxBytes, except for one oversized item sent alone', () => {
    const { b, out } = make({ maxItems: 100, maxBytes: 10 });
    b.add('aaaa');
    b.add('bbbb');
    b.add('cccc'); // would make 12 bytes: the first two go out first
    b.add('x'.repeat(20));
    expect(out).toEqual([['aaaa', 'bbbb'], ['cccc'], ['x'.repeat(20)]]);
  });
  it('discard forgets without flushing', () => {
    vi.useFakeTimers();
    const { b, out } = make();
    b.add('a');
    b.discard();
    vi.advanceTimersByTime(10);
    expect(out).toEqual([]);
  });
});
