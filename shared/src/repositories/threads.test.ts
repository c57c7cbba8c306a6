import { describe, expect, it } from 'vitest';
import type { Model } from 'mongoose';
import type { ThreadSubscriptionDoc } from '../models/schemas.ts';
import { ThreadSubscriptionsRepository } from './threads.ts';

type Update = { $set?: Record<string, unknown>; $max?: Record<string, string | number>; $setOnInsert?: Record<string, unknown> };

/**
 * thread_subscriptions as FerretDB updates them: the document is read, the update applied to that
 * copy, and the whole copy written back a moment later (no compare-and-set in between).
 */
function readModifyWriteStore() {
  const docs = new Map<string, Record<string, unknown>>();
  const model = {
    findOneAndUpdate: (filter: { _id: { $eq: string } }, update: Update) => ({
      lean: async () => {
        const id = filter._id.$eq;
        const prev = docs.get(id);
        const next: Record<string, unknown> = prev ? { ...prev } : { _id: id, ...update.$setOnInsert };
        for (const [f, v] of Object.entries(update.$max ?? {})) if (next[f] == null || (next[f] as string | number) < v) next[f] = v;
        Object.assign(next, update.$set);
        await new Promise((r) => setTimeout(r, 5));
        docs.set(id, next);
        return prev ? { ...prev } : null;
      },
    }),
  };
  return { model: model as unknown as Model<ThreadSubscriptionDoc>, docs };
}

describe('a thread subscription on a read-modify-write store', () => {
  const at = (readId: string, readCount: number) => ({ readId, readCount, readSent: 0 });

  it('a follow and a read at once both stay', async () => {
    const store = readModifyWriteStore();
    const subs = new ThreadSubscriptionsRepository(store.model);
    await subs.advanceRead('bob', 'c1', 'r1', at('m1', 1));
    await Promise.all([subs.setFollowing('bob', 'c1', 'r1', true), subs.advanceRead('bob', 'c1', 'r1', at('m2', 2))]);
    expect(store.docs.get('bob|c1/r1')).toMatchObject({ following: true, readId: 'm2', readCount: 2 });
  });

  it('two reads at once: the newer one stays, and only the real move says so', async () => {
    const store = readModifyWriteStore();
    const subs = new ThreadSubscriptionsRepository(store.model);
    await subs.advanceRead('bob', 'c1', 'r1', at('m1', 1));
    const moved = await Promise.all([subs.advanceRead('bob', 'c1', 'r1', at('m3', 3)), subs.advanceRead('bob', 'c1', 'r1', at('m2', 2))]);
    expect(moved).toEqual([true, false]);
    expect(store.docs.get('bob|c1/r1')).toMatchObject({ readId: 'm3', readCount: 3 });
  });

  it("other users' subscriptions are written at the same time", async () => {
    const store = readModifyWriteStore();
    const subs = new ThreadSubscriptionsRepository(store.model);
    await Promise.all([subs.setFollowing('bob', 'c1', 'r1', true), subs.setFollowing('carol', 'c1', 'r1', false)]);
    expect([store.docs.get('bob|c1/r1')?.following, store.docs.get('carol|c1/r1')?.following]).toEqual([true, false]);
  });
});
