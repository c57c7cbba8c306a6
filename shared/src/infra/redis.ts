import { Redis } from 'ioredis';

/** ioredis with a key prefix, so stacks sharing a Redis never see each other's keys. */
export function connectRedis(url: string, prefix: string): Redis {
  return new Redis(url, {
    keyPrefix: prefix,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    lazyConnect: false,
  });
}

/**
 * A pub/sub pair (the Socket.IO adapter's; the db replicas' chunk feed): a publisher and a
 * subscriber, without a key prefix (channels carry their own). The subscriber skips ioredis's ready check: a subscribe sent
 * while a connection is being set up (a room joined as the client reconnects) is written at once
 * (subscribe is allowed while Redis loads), the connection enters subscriber mode, and the ready
 * check's INFO that follows is refused, so ioredis drops the connection and starts over, and
 * broadcasts between instances are lost meanwhile (ioredis 5.8.2 to 5.11.1, redis/ioredis#2037;
 * seen as a gateway that missed a message in the browser tests). Subscribe commands need no check.
 */
export function adapterClients(url: string, onError?: (e: Error) => void): { pub: Redis; sub: Redis } {
  const pub = new Redis(url);
  const sub = pub.duplicate({ enableReadyCheck: false });
  // Without a listener ioredis prints each connection error as an unhandled error event.
  if (onError) for (const c of [pub, sub]) c.on('error', onError);
  return { pub, sub };
}

const FIXED_WINDOW = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {n, ttl}
`;

export interface RateLimitResult {
  allowed: boolean;
  count: number;
  /** Seconds until the window resets. */
  retryAfter: number;
}

/** Counts one hit in a fixed window; `allowed` once the count is within `limit`. */
export async function hit(redis: Redis, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
  const [count, ttl] = (await redis.eval(FIXED_WINDOW, 1, key, windowMs)) as [number, number];
  return { allowed: count <= limit, count, retryAfter: Math.max(1, Math.ceil(Math.max(ttl, 0) / 1000)) };
}

/** Reads a window's count without adding to it. */
export async function peek(redis: Redis, key: string, limit: number): Promise<RateLimitResult> {
  const [count, ttl] = await Promise.all([redis.get(key), redis.pttl(key)]);
  const n = Number(count ?? 0);
  return { allowed: n < limit, count: n, retryAfter: Math.max(1, Math.ceil(Math.max(ttl, 0) / 1000)) };
}
