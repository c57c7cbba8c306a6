import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '@chat/shared/log';
import { ChunkOpenFeed, type PubSub } from './open-feed.ts';

const log: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Redis pub/sub at the boundary: what is published reaches every subscriber of the channel in
 * publish order when `deliver()` runs (a subscriber that is `down` gets nothing, as a dropped
 * connection would; `failPublish` makes publishes reject).
 */
function fakeRedis() {
  const queue: Array<[string, string]> = [];
  const subs: Array<{ down: boolean; onMessage: Array<(c: string, m: string) => void>; onClose: Array<() => void> }> = [];
  const bus = {
    failPublish: false,
    queue,
    pub: {
      publish: async (channel: string, message: string) => {
        if (bus.failPublish) throw new Error('connection is closed');
        queue.push([channel, message]);
        return 1;
      },
    },
    sub(): PubSub & { drop(): void; restore(): void } {
      const s = { down: false, onMessage: [] as Array<(c: string, m: string) => void>, onClose: [] as Array<() => void> };
      subs.push(s);
      return {
        publish: bus.pub.publish,
        subscribe: async () => 1,
        on: (event: 'message' | 'close', fn: (...a: string[]) => void) => {
          if (event === 'message') s.onMessage.push(fn);
          else s.onClose.push(fn as () => void);
        },
        drop: () => {
          s.down = true;
          for (const f of s.onClose) f();
        },
        restore: () => {
          s.down = false;
        },
      };
    },
    deliver() {
      for (const [c, m] of queue.splice(0)) for (const s of subs) if (!s.down) for (const f of s.onMessage) f(c, m);
    },
  };
  return bus;
}

const opts = (clock: { t: number }) => ({ beatMs: 100, beatStaleMs: 400, graceMs: 1000, pendingMs: 2000, clock: () => clock.t });

/** Time passes: the feeds' beat timers fire (faked), and what they published is delivered. */
const ticker = (clock: { t: number }, bus: ReturnType<typeof fakeRedis>) => (ms: number) => {
  clock.t += ms;
  vi.advanceTimersByTime(ms);
  bus.deliver();
};

/** Two replicas' feeds on one bus, both past their grace period, with a state `s` checked at `checked`. */
function twoReplicas() {
  const clock = { t: 10_000 };
  const bus = fakeRedis();
  const [subA, subB] = [bus.sub(), bus.sub()];
  const a = new ChunkOpenFeed(bus.pub, subA, 'ch', log, opts(clock));
  const b = new ChunkOpenFeed(bus.pub, subB, 'ch', log, opts(clock));
  a.start();
  b.start();
  bus.deliver();
  const tick = ticker(clock, bus);
  tick(1100);
  return { clock, bus, a, b, subA, subB, tick, checked: clock.t };
}

/** Another replica on the channel, as the feed under test hears it. */
const fromOther = (bus: ReturnType<typeof fakeRedis>, message: string) => {
  void bus.pub.publish('ch', message);
  bus.deliver();
};

describe('ChunkOpenFeed', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('vouches for nothing until it has heard its own beat, and then only for states checked after its grace period', () => {
    const clock = { t: 10_000 };
    const bus = fakeRedis();
    const feed = new ChunkOpenFeed(bus.pub, bus.sub(), 'ch', log, opts(clock));
    feed.start();
    expect(feed.status('s', 0, clock.t)).toBe('unknown');
    bus.deliver();
    // Heard at 10,000: states checked before 11,000 may have missed an intent sent before we listened.
    expect(feed.status('s', 0, 10_500)).toBe('unknown');
    expect(feed.status('s', 0, 11_000)).toBe('trust');
  });

  it('an intent from another replica sends the stream to the store until its opening is heard; then older copies are stale', async () => {
    const { a, b, bus, checked } = twoReplicas();
    expect(b.status('s', 3, checked)).toBe('trust');
    expect(await a.intend('s', 4)).toBe(true);
    bus.deliver();
    expect(b.status('s', 3, checked)).toBe('unknown');
    // Streams nobody opened in stay trusted.
    expect(b.status('t', 3, checked)).toBe('trust');
    a.opened('s', 4);
    bus.deliver();
    expect(b.status('s', 3, checked)).toBe('stale');
    expect(b.status('s', 4, checked)).toBe('trust');
    // A replica's own messages tell it nothing it does not know.
    expect(a.status('s', 3, checked)).toBe('trust');
  });

  it('an opening of an earlier chunk leaves a later one under way pending', async () => {
    const { a, b, bus, checked } = twoReplicas();
    // Another replica (not a) intends chunk 5 while a finishes opening chunk 4.
    fromOther(bus, 'i other s 5');
    a.opened('s', 4);
    bus.deliver();
    expect(b.status('s', 4, checked)).toBe('unknown');
    fromOther(bus, 'o other s 5');
    expect(b.status('s', 4, checked)).toBe('stale');
    expect(b.status('s', 5, checked)).toBe('trust');
  });

  it('forgets an opening after forgetMs (a copy older than that has been reloaded by the placer anyway)', async () => {
    const clock = { t: 10_000 };
    const bus = fakeRedis();
    const b = new ChunkOpenFeed(bus.pub, bus.sub(), 'ch', log, { ...opts(clock), forgetMs: 3000 });
    b.start();
    bus.deliver();
    const tick = ticker(clock, bus);
    tick(1100);
    fromOther(bus, 'o other s 4');
    expect(b.status('s', 3, clock.t)).toBe('stale');
    tick(2900);
    expect(b.status('s', 3, clock.t)).toBe('stale');
    tick(200);
    expect(b.status('s', 3, clock.t)).toBe('trust');
  });

  it('an intent whose opener died (no opening heard) keeps the stream going to the store for pendingMs, then is dropped', async () => {
    const { a, b, bus, tick, checked } = twoReplicas();
    await a.intend('s', 4);
    bus.deliver();
    tick(1900);
    expect(b.status('s', 3, checked)).toBe('unknown');
    tick(200);
    // Expired: a copy checked before the intent still goes to the store (which has the chunk, if
    // its opener inserted it before dying); one read after it is trusted.
    expect(b.status('s', 3, checked)).toBe('unknown');
    expect(b.status('s', 3, checked)).toBe('unknown');
    expect(b.status('s', 3, checked + 2100)).toBe('trust');
  });

  it('a dropped subscription trusts nothing checked before it heard its own beat again, and its grace period after', async () => {
    const { a, b, bus, subB, tick, checked } = twoReplicas();
    subB.drop();
    // While it is down, an opening goes unheard.
    await a.intend('s', 4);
    a.opened('s', 4);
    bus.deliver();
    expect(b.status('s', 3, checked)).toBe('unknown');
    subB.restore();
    tick(100);
    expect(b.status('s', 3, checked)).toBe('unknown');
    // A state read from the store after the grace period may be trusted again.
    expect(b.status('s', 4, checked + 100 + 1000)).toBe('trust');
  });

  it('trusts nothing while its beats do not come back (Redis slow or the subscription silent)', () => {
    const { b, clock, checked } = twoReplicas();
    expect(b.status('s', 3, checked)).toBe('trust');
    clock.t += 500;
    expect(b.status('s', 3, checked)).toBe('unknown');
  });

  it('an intent that cannot be published answers false (the placer then opens no chunk)', async () => {
    const { a, bus } = twoReplicas();
    bus.failPublish = true;
    expect(await a.intend('s', 4)).toBe(false);
  });

  it('a replica that does not hear itself answers false at once, without publishing', async () => {
    const { a, bus, clock } = twoReplicas();
    clock.t += 500;
    expect(await a.intend('s', 4)).toBe(false);
    expect(bus.queue).toEqual([]);
  });
});
