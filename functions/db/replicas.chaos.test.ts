import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachLimit } from '@chat/shared/concurrency';
import { adapterClients } from '@chat/shared/infra/redis';
import { api, registerUser, storeMessages } from '../../test/api.ts';
import { makeMessage } from '../../test/bus.ts';
import { closeTestDb, testDb } from '../../test/db.ts';
import { controlProc, stack } from '../../test/stack.ts';

/**
 * Two db replicas storing one conversation at once: each places messages by its own cached copy
 * of the open chunk and hears of the other's openings over Redis (src/history/open-feed.ts). The
 * chaos stack routes to a second db instance, started here.
 */
const redis = adapterClients(stack().env.REDIS_URL!);
const channel = `${stack().env.REDIS_PREFIX}chunk-opens`;
/** What the feed's channel carried: each message's kind and sender, by replica id. */
const heard: Array<{ kind: string; from: string }> = [];
let twoBeating: Promise<void>;

beforeAll(async () => {
  twoBeating = new Promise((resolve) => {
    redis.sub.on('message', (c: string, m: string) => {
      if (c !== channel) return;
      const [kind, from] = m.split(' ');
      heard.push({ kind: kind!, from: from! });
      if (new Set(heard.filter((h) => h.kind === 'h').map((h) => h.from)).size >= 2) resolve();
    });
  });
  await redis.sub.subscribe(channel);
  await controlProc('db-2', 'start');
});
afterAll(async () => {
  await Promise.all([controlProc('db-2', 'stop'), closeTestDb(), redis.pub.quit(), redis.sub.quit()]);
});

describe('two db replicas storing one conversation', () => {
  it('store every message once, both opening chunks and telling the other of each opening', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const res = await api('POST', '/api/db/conversations', { token: alice.accessToken, body: { type: 'group', title: 'replicas', memberIds: [bob.user.id] } });
    expect(res.status).toBe(201);
    const convId = res.body.conversation.id as string;
    // Both replicas beat on the feed; a replica trusts it only for states it read 5 s after it
    // first heard itself (the feed's grace period, for intents it may have missed before): the
    // placements below must come after that for the feed, not the store, to answer them.
    await twoBeating;
    await new Promise((r) => setTimeout(r, 5_500));

    const accessFrom = statSync(stack().accessLog!).size;
    const messages = Array.from({ length: 1_200 }, (_, i) => makeMessage(convId, i % 2 ? bob.user.id : alice.user.id, `m${i}`));
    const batches = Array.from({ length: messages.length / 10 }, (_, i) => messages.slice(i * 10, i * 10 + 10));
    // Four calls in flight, as the connector makes them; the ingress spreads them over both replicas.
    await eachLimit(batches, 4, (b) => storeMessages(b));

    const upstreams = new Set(
      readFileSync(stack().accessLog!)
        .subarray(accessFrom)
        .toString('utf8')
        .split('\n')
        .filter((l) => l.includes(' /function/db '))
        .map((l) => l.match(/[\d.]+:\d+/g)?.at(-1)),
    );
    expect(upstreams.size).toBe(2);

    // Every message is stored, once.
    const { models } = await testDb();
    const stored = await models.Message.find({ conversationId: convId, kind: { $ne: 'system' } }, { _id: 1 }).lean<Array<{ _id: string }>>();
    expect(stored.map((m) => m._id).sort()).toEqual(messages.map((m) => m.id).sort());
    // Not asserted: that every message sits in the chunk whose id range holds it. Under batches
    // that overlap across replicas, a placement can still race an opening on the other replica
    // (docs/storage.md, "A race between replicas"): about 2-4% of these messages land one chunk
    // early, with or without the feed, and history pages show them out of order at that edge.

    // Both replicas opened chunks, and announced each opening before and after its insert.
    const opened = heard.filter((h) => h.kind === 'o');
    expect(new Set(opened.map((h) => h.from)).size).toBe(2);
    expect(heard.filter((h) => h.kind === 'i').length).toBeGreaterThanOrEqual(opened.length);
  }, 120_000);
});
