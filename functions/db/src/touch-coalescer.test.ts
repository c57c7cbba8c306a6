import { describe, expect, it } from 'vitest';
import { TouchCoalescer, type TouchUpdate } from './touch-coalescer.ts';

/** A batch of one fresh message from sender s. */
const one = (messageId: string, at: number, s = 'u1'): TouchUpdate => ({ messageId, at: new Date(at), stored: 1, sent: { [s]: 1 } });

/** A write that finishes when the test says so, recording what it was asked. */
function controlledWrites() {
  const calls: Array<TouchUpdate & { conversationId: string; finish: (err?: Error) => void }> = [];
  const write = (conversationId: string, t: TouchUpdate) =>
    new Promise<void>((resolve, reject) => calls.push({ conversationId, ...t, finish: (err) => (err ? reject(err) : resolve()) }));
  return { calls, write };
}

const tick = () => new Promise((r) => setImmediate(r));
const state = (p: Promise<void>) => Promise.race([p.then(() => 'resolved', () => 'rejected'), tick().then(() => 'pending')]);

describe('TouchCoalescer', () => {
  it('writes at once when the conversation is idle, and each conversation on its own', async () => {
    const { calls, write } = controlledWrites();
    const c = new TouchCoalescer(write);
    const a = c.touch('c1', one('m1', 1));
    const b = c.touch('c2', one('m2', 2));
    expect(calls.map((x) => [x.conversationId, x.messageId])).toEqual([['c1', 'm1'], ['c2', 'm2']]);
    calls[0]!.finish();
    expect(await state(a)).toBe('resolved');
    expect(await state(b)).toBe('pending');
  });

  it('merges requests that arrive during a write into one follow-up with the newest id, resolving each only after it', async () => {
    const { calls, write } = controlledWrites();
    const c = new TouchCoalescer(write);
    const first = c.touch('c1', one('m1', 1));
    const later = [c.touch('c1', { ...one('m3', 3), mentioned: { u2: 1 } }), c.touch('c1', one('m2', 2)), c.touch('c1', { ...one('m4', 4), mentioned: { u2: 2, u3: 1 } })];
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    expect(await state(first)).toBe('resolved');
    // Nobody merged into the follow-up is answered by the first write.
    expect(await Promise.all(later.map(state))).toEqual(['pending', 'pending', 'pending']);
    expect(calls).toHaveLength(2);
    expect([calls[1]!.messageId, calls[1]!.at.getTime()]).toEqual(['m4', 4]);
    // The follow-up adds up the counters of all three batches it stands for.
    expect([calls[1]!.stored, calls[1]!.sent, calls[1]!.mentioned]).toEqual([3, { u1: 3 }, { u2: 3, u3: 1 }]);
    calls[1]!.finish();
    expect(await Promise.all(later.map(state))).toEqual(['resolved', 'resolved', 'resolved']);
    // Idle again: the next request writes at once.
    void c.touch('c1', one('m5', 5));
    expect(calls).toHaveLength(3);
  });

  it('a merged follow-up records the newest open chunk of the batches it stands for', async () => {
    const { calls, write } = controlledWrites();
    const c = new TouchCoalescer(write);
    void c.touch('c1', { ...one('m1', 1), open: { no: 1, start: 'a', base: 100 } });
    void c.touch('c1', { ...one('m3', 3), open: { no: 3, start: 'c', base: 300 } });
    void c.touch('c1', { ...one('m2', 2), open: { no: 2, start: 'b', base: 200 } });
    calls[0]!.finish();
    await tick();
    expect(calls[1]!.open).toEqual({ no: 3, start: 'c', base: 300 });
  });

  it('a failed write fails exactly its own callers; the merged follow-up still runs', async () => {
    const { calls, write } = controlledWrites();
    const c = new TouchCoalescer(write);
    const first = c.touch('c1', one('m1', 1));
    const second = c.touch('c1', one('m2', 2));
    calls[0]!.finish(new Error('db down'));
    await expect(first).rejects.toThrow('db down');
    expect(await state(second)).toBe('pending');
    await tick();
    calls[1]!.finish(new Error('still down'));
    await expect(second).rejects.toThrow('still down');
    // After failures the conversation is idle, not stuck.
    const third = c.touch('c1', one('m3', 3));
    expect(calls).toHaveLength(3);
    calls[2]!.finish();
    expect(await state(third)).toBe('resolved');
  });

  it('a merged write carries the copy of the newest message, not of the last one to arrive', async () => {
    const { calls, write } = controlledWrites();
    const c = new TouchCoalescer(write);
    const msg = (id: string) => ({ id, body: id }) as unknown as NonNullable<TouchUpdate['last']>;
    void c.touch('c1', { ...one('m1', 1), last: msg('m1') });
    void c.touch('c1', { ...one('m3', 3), last: msg('m3') });
    void c.touch('c1', { ...one('m2', 2), last: msg('m2') });
    expect(calls[0]!.last?.id).toBe('m1');
    calls[0]!.finish();
    await tick();
    expect([calls[1]!.messageId, calls[1]!.last?.id]).toEqual(['m3', 'm3']);
  });
});
