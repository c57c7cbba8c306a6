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
});
