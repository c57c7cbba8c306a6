import { describe, expect, it } from 'vitest';
import { ContiguousAcker } from './acker.ts';

const setup = (tags: number[]) => {
  const acks: Array<[number, boolean]> = [];
  const a = new ContiguousAcker((t, m) => acks.push([t, m]));
  tags.forEach((t) => a.track(t));
  return { a, acks };
};

describe('ContiguousAcker', () => {
  it('acks a settled prefix with one multiple ack', () => {
    const { a, acks } = setup([1, 2, 3, 4]);
    a.settle([1, 2, 3]);
    expect(acks).toEqual([[3, true]]);
    expect(a.pending).toBe(1);
  });
  it('holds later batches until the earlier one settles, never acking an unsettled tag', () => {
    const { a, acks } = setup([1, 2, 3, 4, 5]);
    a.settle([3, 4]);
    expect(acks).toEqual([]);
    a.settle([1]);
    expect(acks).toEqual([[1, false]]);
    a.settle([2]);
    expect(acks).toEqual([[1, false], [4, true]]);
    a.settle([5]);
    expect(acks).toEqual([[1, false], [4, true], [5, false]]);
    expect(a.pending).toBe(0);
  });
  it('never acks a nacked tag, but lets the prefix move past it', () => {
    const { a, acks } = setup([1, 2, 3]);
    a.settle([2], false);
    a.settle([1]);
    expect(acks).toEqual([[1, false]]);
    a.settle([3], false);
    expect(acks).toEqual([[1, false]]);
    expect(a.pending).toBe(0);
  });
});
