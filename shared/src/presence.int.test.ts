import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { stack } from '../../test/stack.ts';
import { connectRedis } from './infra/redis.ts';
import { PresenceStore } from './presence.ts';

const redis: Redis = connectRedis(stack().env.REDIS_URL!, `${stack().env.REDIS_PREFIX}presence-test:`);
afterAll(() => redis.quit());

describe('PresenceStore (real Redis)', () => {
  it('a user is online while any socket on a live instance remains, and offline after the last', async () => {
    const store = new PresenceStore(redis);
    await store.heartbeat('i1');
    await store.heartbeat('i2');
    expect(await store.connect('u1', 'i1', 's1')).toBe(true);
    expect(await store.connect('u1', 'i2', 's2')).toBe(false);
    expect(await store.disconnect('u1', 'i1', 's1')).toBe(false);
    expect(await store.isOnline('u1')).toBe(true);
    expect(await store.disconnect('u1', 'i2', 's2')).toBe(true);
    expect(await store.isOnline('u1')).toBe(false);
    expect(await store.lastSeen('u1')).toEqual(expect.any(String));
  });

  it('a reload racing on two instances never reports the connected user offline', async () => {
    const store = new PresenceStore(redis);
    await Promise.all([store.heartbeat('r1'), store.heartbeat('r2')]);
    for (let i = 0; i < 50; i++) {
      const user = `reload-${i}`;
      await store.connect(user, 'r1', 'old');
      const [, wentOffline] = await Promise.all([store.connect(user, 'r2', 'new'), store.disconnect(user, 'r1', 'old')]);
      expect(wentOffline).toBe(false);
      expect(await store.isOnline(user)).toBe(true);
    }
  });

  it('sockets of an instance whose liveness key expired stop counting, and are reaped once', async () => {
    const store = new PresenceStore(redis);
    await store.heartbeat('dead');
    await store.connect('u9', 'dead', 's1');
    expect(await store.isOnline('u9')).toBe(true);
    await redis.del('presence:instance:dead');
    expect(await store.isOnline('u9')).toBe(false);
    expect(await store.reapDeadInstances()).toContain('u9');
    expect(await store.reapDeadInstances()).not.toContain('u9');
  });

  it('onlineAmong answers for a whole contact list at once: live instances count, dead ones and strangers do not', async () => {
    const store = new PresenceStore(redis);
    await Promise.all([store.heartbeat('live-a'), store.heartbeat('live-b'), store.heartbeat('gone')]);
    await store.connect('c1', 'live-a', 's1');
    await store.connect('c2', 'gone', 's2');
    await store.connect('c3', 'gone', 's3');
    await store.connect('c3', 'live-b', 's4');
    await store.connect('c4', 'live-b', 's5');
    await redis.del('presence:instance:gone');
    expect(await store.onlineAmong(['c4', 'c1', 'c2', 'c3', 'nobody', 'c1'])).toEqual(new Set(['c4', 'c1', 'c3']));
    expect(await store.onlineAmong([])).toEqual(new Set());
  });
});
