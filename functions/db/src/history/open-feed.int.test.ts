import { afterAll, describe, expect, it } from 'vitest';
import { adapterClients } from '@chat/shared/infra/redis';
import type { Logger } from '@chat/shared/log';
import { stack } from '../../../../test/stack.ts';
import { ChunkOpenFeed } from './open-feed.ts';

const log: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const clients: Array<ReturnType<typeof adapterClients>> = [];
const feeds: ChunkOpenFeed[] = [];
afterAll(async () => {
  for (const f of feeds) f.stop();
  await Promise.all(clients.flatMap(({ pub, sub }) => [pub.quit(), sub.quit()]));
});

const graceMs = 300;

/** A replica's feed on the test stack's Redis, and a way to await what its subscriber hears. */
async function replica(channel: string) {
  const redis = adapterClients(stack().env.REDIS_URL!);
  clients.push(redis);
  // Its connection's id, asked before it enters subscriber mode (where CLIENT is refused).
  const clientId = String(await redis.sub.client('ID'));
  const feed = new ChunkOpenFeed(redis.pub, redis.sub, channel, log, { beatMs: 50, beatStaleMs: 500, graceMs, pendingMs: 5000 });
  feeds.push(feed);
  const hears = (prefix: string) =>
    new Promise<void>((resolve) => {
      const on = (c: string, m: string) => {
        if (c !== channel || !m.startsWith(`${prefix} `)) return;
        redis.sub.off('message', on);
        // Handlers run in the order they were added: the feed's, added at start, has run.
        resolve();
      };
      redis.sub.on('message', on);
    });
  const firstBeat = hears(`h ${feed.id}`);
  feed.start();
  await firstBeat;
  return { feed, redis, clientId, hears };
}

describe('the feed of chunk openings (real Redis)', () => {
  it('one replica hears another’s intent and opening; a dropped subscription trusts nothing checked before it came back', async () => {
    const channel = `${stack().env.REDIS_PREFIX}chunk-opens-test#${Date.now()}`;
    const [a, b] = [await replica(channel), await replica(channel)];
    // A state checked once the grace period after subscribing is over.
    const checked = performance.now() + graceMs;
    expect(b.feed.status('s', 3, checked)).toBe('trust');

    const intent = b.hears('i');
    expect(await a.feed.intend('s', 4)).toBe(true);
    await intent;
    expect(b.feed.status('s', 3, checked)).toBe('unknown');
    expect(b.feed.status('other', 3, checked)).toBe('trust');
    const opening = b.hears('o');
    a.feed.opened('s', 4);
    await opening;
    expect(b.feed.status('s', 3, checked)).toBe('stale');
    expect(b.feed.status('s', 4, checked)).toBe('trust');

    // Redis drops b's subscriber; ioredis reconnects and subscribes again by itself.
    const closed = new Promise((r) => b.redis.sub.once('close', r));
    const killedAt = performance.now();
    await a.redis.pub.client('KILL', 'ID', b.clientId);
    await closed;
    expect(b.feed.status('s', 4, checked)).toBe('unknown');
    await b.hears(`h ${b.feed.id}`);
    // Back, but what was published while it was away is lost: states checked before it was back
    // (and its grace period) go to the store; later ones may be trusted again.
    expect(b.feed.status('s', 4, checked)).toBe('unknown');
    expect(b.feed.status('s', 4, killedAt + graceMs)).toBe('unknown');
    expect(b.feed.status('s', 4, performance.now() + graceMs)).toBe('trust');
  });
});
