import type { Redis } from 'ioredis';

/**
 * Who is connected, kept in Redis so every gateway instance (and the notification function)
 * sees the same answer. Each user has a set of "<instance>|<socket>" entries; an entry counts only
 * while its instance's liveness key exists, so a crashed instance's sockets stop counting within
 * INSTANCE_TTL_MS and nobody stays online forever.
 */
export const INSTANCE_TTL_MS = 15_000;

const k = {
  sockets: (userId: string) => `presence:sockets:${userId}`,
  lastSeen: (userId: string) => `presence:lastseen:${userId}`,
  instance: (id: string) => `presence:instance:${id}`,
  instances: 'presence:instances',
  users: (instanceId: string) => `presence:users:${instanceId}`,
};

/**
 * Live sockets of a user: entries whose instance still has its liveness key. `seen` remembers each
 * instance's answer, so a script looking at many users asks once per instance.
 */
const LIVE = `
local function live(set, prefix, seen)
  local n = 0
  for _, e in ipairs(redis.call('SMEMBERS', set)) do
    local inst = string.match(e, '^(.-)|')
    if inst then
      if seen[inst] == nil then seen[inst] = redis.call('EXISTS', prefix .. '${k.instance('')}' .. inst) == 1 end
      if seen[inst] then n = n + 1 end
    end
  end
  return n
end
`;

// Connect and disconnect are single scripts so a reload (old socket leaving while the new one
// arrives, possibly on another instance) can never announce "offline" for a connected user.
const CONNECT = `${LIVE}
local before = live(KEYS[1], ARGV[2], {})
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[3])
if before == 0 then return 1 end
return 0
`;

const DISCONNECT = `${LIVE}
redis.call('SREM', KEYS[1], ARGV[1])
if live(KEYS[1], ARGV[2], {}) > 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
return 1
`;

// Which of the users (KEYS: their socket sets) have a live socket, as 1-based indexes. One round
// trip for a whole contact list.
const ONLINE = `${LIVE}
local seen = {}
local online = {}
for i, set in ipairs(KEYS) do
  if live(set, ARGV[1], seen) > 0 then online[#online + 1] = i end
end
return online
`;

export class PresenceStore {
  private readonly scripts: {
    presenceConnect(...args: string[]): Promise<unknown>;
    presenceDisconnect(...args: string[]): Promise<unknown>;
    presenceOnline(...args: Array<string | number>): Promise<unknown>;
  };

  constructor(private readonly redis: Redis) {
    // Run by SHA (EVALSHA): every connect, disconnect and contact lookup would otherwise resend the source.
    redis.defineCommand('presenceConnect', { numberOfKeys: 2, lua: CONNECT });
    redis.defineCommand('presenceDisconnect', { numberOfKeys: 2, lua: DISCONNECT });
    redis.defineCommand('presenceOnline', { lua: ONLINE });
    this.scripts = redis as unknown as PresenceStore['scripts'];
  }

  private get prefix(): string {
    return (this.redis.options.keyPrefix as string | undefined) ?? '';
  }

  /** Marks the instance alive; gateways call this every few seconds. */
  async heartbeat(instanceId: string): Promise<void> {
    await this.redis.multi().set(k.instance(instanceId), '1', 'PX', INSTANCE_TTL_MS).sadd(k.instances, instanceId).exec();
  }

  /** Adds a socket; true when the user had no live socket before (they just came online). */
  async connect(userId: string, instanceId: string, socketId: string): Promise<boolean> {
    const res = await this.scripts.presenceConnect(k.sockets(userId), k.users(instanceId), `${instanceId}|${socketId}`, this.prefix, userId);
    return res === 1;
  }

  /** Removes a socket; true when it was the user's last live one (they just went offline). */
  async disconnect(userId: string, instanceId: string, socketId: string, at = new Date()): Promise<boolean> {
    const res = await this.scripts.presenceDisconnect(k.sockets(userId), k.lastSeen(userId), `${instanceId}|${socketId}`, this.prefix, at.toISOString());
    return res === 1;
  }

  async isOnline(userId: string): Promise<boolean> {
    return (await this.onlineAmong([userId])).has(userId);
  }

  /** The subset of userIds with at least one socket on a live instance. */
  async onlineAmong(userIds: string[]): Promise<Set<string>> {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return new Set();
    const online = (await this.scripts.presenceOnline(unique.length, ...unique.map(k.sockets), this.prefix)) as number[];
    return new Set(online.map((i) => unique[i - 1]!));
  }

  async lastSeen(userId: string): Promise<string | null> {
    return this.redis.get(k.lastSeen(userId));
  }

  /**
   * Finds instances whose liveness key expired, drops their sockets, and returns the users who
   * thereby went offline (each reported once, by whichever instance removes the dead one first).
   */
  async reapDeadInstances(): Promise<string[]> {
    const ids = await this.redis.smembers(k.instances);
    const wentOffline: string[] = [];
    for (const id of ids) {
      if (await this.redis.exists(k.instance(id))) continue;
      // SREM is the claim: only the instance that removes it does the cleanup.
      if ((await this.redis.srem(k.instances, id)) !== 1) continue;
      const users = await this.redis.smembers(k.users(id));
      for (const u of users) {
        const mine = (await this.redis.smembers(k.sockets(u))).filter((e) => e.startsWith(`${id}|`));
        if (mine.length) await this.redis.srem(k.sockets(u), ...mine);
        if (!(await this.isOnline(u))) {
          await this.redis.set(k.lastSeen(u), new Date().toISOString());
          wentOffline.push(u);
        }
      }
      await this.redis.del(k.users(id));
    }
    return wentOffline;
  }
}
