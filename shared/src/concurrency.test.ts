import { describe, expect, it } from 'vitest';
import { eachLimit } from './concurrency.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('eachLimit', () => {
  it('runs every item, never more than the limit at once, starting them in order', async () => {
    let open = 0;
    let mostOpen = 0;
    const started: number[] = [];
    await eachLimit([10, 11, 12, 13, 14], 2, async (item, i) => {
      started.push(i);
      expect(item).toBe(10 + i);
      mostOpen = Math.max(mostOpen, ++open);
      await tick();
      open--;
    });
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(mostOpen).toBe(2);
  });

  it('rejects with the first error and starts nothing after it', async () => {
    const started: number[] = [];
    await expect(
      eachLimit([0, 1, 2, 3, 4, 5], 2, async (i) => {
        started.push(i);
        await tick();
        if (i === 1) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await tick();
    await tick();
    expect(started.length).toBeLessThan(6);
  });

  it('does nothing for no items', async () => {
    let calls = 0;
    await eachLimit([], 4, async () => void calls++);
    expect(calls).toBe(0);
  });
});
