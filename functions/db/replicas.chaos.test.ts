import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterClients } from '@chat/shared/infra/redis';
import type { Message } from '@chat/shared/models/types';
import { chunkId } from '@chat/shared/repositories/chunks';
import { allMessages, api, registerUser, storeMessages } from '../../test/api.ts';
import { makeMessage } from '../../test/bus.ts';
import { closeTestDb, testDb } from '../../test/db.ts';
import { controlProc, stack } from '../../test/stack.ts';

/**
 * Two db replicas storing one conversation at once: each places messages by its own cached copy
 * of the open chunk and hears of the other's openings over Redis (src/history/open-feed.ts), and
 * a chunk opened by live traffic starts a moment ahead, so what is in flight stays in the chunk
 * before whichever replica places it (src/history/chunker.ts, LiveFloor). A copy used stale would
 * put messages in the chunk before their range: history would read out of order at that edge, and
 * paging forward could skip them. The chaos stack routes to a second db instance, started here.
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
  it('store every message once and in its chunk’s id range, both opening chunks and telling the other of each opening', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const res = await api('POST', '/api/db/conversations', { token: alice.accessToken, body: { type: 'group', title: 'replicas', memberIds: [bob.user.id] } });
    expect(res.status).toBe(201);
    const convId = res.body.conversation.id as string;
    // Both replicas hear themselves on the feed, so each announces its openings. (Within its
    // grace period a replica still checks its copies in the store; the feed's own tests cover
    // when it vouches for them: what this test shows holds either way.)
    await twoBeating;

    const accessFrom = statSync(stack().accessLog!).size;
    // Live traffic: bursts of four calls at once (as the connector has them in flight; the ingress
    // spreads them over both replicas), each call's messages made as the burst starts, as the
    // gateway makes them when they are sent. The pause between bursts paces the conversation at
    // ~200 messages a second: chunks then hold about a hundred, and the test crosses a dozen edges.
    const messages: Message[] = [];
    for (let burst = 0; burst < 30; burst++) {
      const calls = Array.from({ length: 4 }, (_, c) =>
        Array.from({ length: 10 }, (_, i) => makeMessage(convId, i % 2 ? bob.user.id : alice.user.id, `b${burst}c${c}m${i}`)),
      );
      messages.push(...calls.flat());
      await Promise.all(calls.map((batch) => storeMessages(batch)));
      await new Promise((r) => setTimeout(r, 150));
    }

    const upstreams = new Set(
      readFileSync(stack().accessLog!)
        .subarray(accessFrom)
        .toString('utf8')
        .split('\n')
        .filter((l) => l.includes(' /function/db '))
        .map((l) => l.match(/[\d.]+:\d+/g)?.at(-1)),
    );
    expect(upstreams.size).toBe(2);

    // Every message is stored once, in the chunk whose range holds its id.
    const { models } = await testDb();
    const chunks = new Map((await models.Chunk.find({ stream: convId }).lean()).map((c) => [c.no, c.start]));
    expect(chunks.size).toBeGreaterThanOrEqual(5);
    const stored = await models.Message.find({ conversationId: convId, kind: { $ne: 'system' } }, { _id: 1, chunk: 1 }).lean<Array<{ _id: string; chunk: number }>>();
    expect(stored.map((m) => m._id).sort()).toEqual(messages.map((m) => m.id).sort());
    const misplaced = stored.filter((m) => !(m._id >= (chunks.get(m.chunk) ?? '') && (!chunks.has(m.chunk + 1) || m._id < chunks.get(m.chunk + 1)!)));
    expect(misplaced.map((m) => `${m._id} in ${chunkId(convId, m.chunk)}`)).toEqual([]);
    // So paging forward (the catch-up after a reconnect) reads every message once, in id order.
    const history = await allMessages(alice.accessToken, convId);
    expect(history.map((m) => m.id)).toEqual(messages.map((m) => m.id).sort());

    // Both replicas opened chunks, and announced each opening before and after its insert.
    const opened = heard.filter((h) => h.kind === 'o');
    expect(new Set(opened.map((h) => h.from)).size).toBe(2);
    expect(heard.filter((h) => h.kind === 'i').length).toBeGreaterThanOrEqual(opened.length);
  }, 120_000);
});
