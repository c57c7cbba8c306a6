import { describe, expect, it } from 'vitest';
import { eachLimit, KeyedQueue } from './concurrency.ts';

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

describe('KeyedQueue', () => {
  it('runs calls of one key one at a time in call order, other keys alongside, and goes on after a failure', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const job = (name: string, fail = false) => async () => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const a1 = q.run('a', job('a1', true));
    const a2 = q.run('a', job('a2'));
    const b1 = q.run('b', job('b1'));
    await expect(a1).rejects.toThrow('a1');
    expect(await a2).toBe('a2');
    expect(await b1).toBe('b1');
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });
});
