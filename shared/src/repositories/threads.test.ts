import { describe, expect, it } from 'vitest';
import { readModifyWriteModel } from '../../../test/read-modify-write.ts';
import type { ThreadSubscriptionDoc } from '../models/schemas.ts';
import { ThreadSubscriptionsRepository } from './threads.ts';

/** thread_subscriptions as FerretDB updates them, one document per (user, thread) under its `_id`. */
const subscriptions = () => readModifyWriteModel<ThreadSubscriptionDoc>((f: { _id: { $eq: string } }) => f._id.$eq, (f: { _id: { $eq: string } }) => ({ _id: f._id.$eq }));

describe('a thread subscription on a read-modify-write store', () => {
  const at = (readId: string, readCount: number) => ({ readId, readCount, readSent: 0 });

  it('a follow and a read at once both stay', async () => {
    const store = subscriptions();
    const subs = new ThreadSubscriptionsRepository(store.model);
    await subs.advanceRead('bob', 'c1', 'r1', at('m1', 1));
    await Promise.all([subs.setFollowing('bob', 'c1', 'r1', true), subs.advanceRead('bob', 'c1', 'r1', at('m2', 2))]);
    expect(store.docs.get('bob|c1/r1')).toMatchObject({ following: true, readId: 'm2', readCount: 2 });
  });

  it('two reads at once: the newer one stays, and only the real move says so', async () => {
    const store = subscriptions();
    const subs = new ThreadSubscriptionsRepository(store.model);
    await subs.advanceRead('bob', 'c1', 'r1', at('m1', 1));
    const moved = await Promise.all([subs.advanceRead('bob', 'c1', 'r1', at('m3', 3)), subs.advanceRead('bob', 'c1', 'r1', at('m2', 2))]);
    expect(moved).toEqual([true, false]);
    expect(store.docs.get('bob|c1/r1')).toMatchObject({ readId: 'm3', readCount: 3 });
  });

  it("other users' subscriptions are written at the same time", async () => {
    const store = subscriptions();
    const subs = new ThreadSubscriptionsRepository(store.model);
    await Promise.all([subs.setFollowing('bob', 'c1', 'r1', true), subs.setFollowing('carol', 'c1', 'r1', false)]);
    expect([store.docs.get('bob|c1/r1')?.following, store.docs.get('carol|c1/r1')?.following]).toEqual([true, false]);
  });
});
