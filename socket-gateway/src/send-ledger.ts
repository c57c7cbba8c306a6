import type { Redis } from 'ioredis';
import type { Message } from '@chat/shared/models/types';

/**
 * The send ledger in Redis: one atomic step per send that (1) finds an earlier send with the same
 * (sender, clientMsgId), (2) applies the per-sender rate limit, and (3) hands out a createdAt that
 * is strictly later than the conversation's previous one, so ids sort in createdAt order across
 * gateway instances. A record is "reserved" (r|ts|suffix) until the publish is confirmed and then
 * "done" (d|json); a resend of a reserved send rebuilds the same message and publishes it again,
 * which storage absorbs by id.
 *
 * Redis keeps nothing on disk here, so a restart forgets every record. A sentinel key (the
 * ledger's epoch: when this Redis first saw a send) tells the two apart: a send missing from a
 * ledger younger than the recovery window may be the resend of one acked before the loss, and
 * only then is the store asked (MessagingService.send). Otherwise a miss is a new message.
 */
const RESERVE = `
local epoch = redis.call('GET', KEYS[4])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[4], epoch)
end
local rec = redis.call('GET', KEYS[1])
if rec then return {'seen', rec, epoch} end
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
if n > tonumber(ARGV[2]) then return {'limited', tostring(redis.call('PTTL', KEYS[2])), epoch} end
local now = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
if now <= last then now = last + 1 end
redis.call('SET', KEYS[3], now, 'EX', 86400)
local value = 'r|' .. now .. '|' .. ARGV[4]
redis.call('SET', KEYS[1], value, 'EX', ARGV[5])
return {'new', value, epoch}
`;

/** Moves reserved -> done only if still reserved; returns the done record either way. */
const COMPLETE = `
local rec = redis.call('GET', KEYS[1])
if rec == ARGV[1] or not rec then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  redis.call('SET', KEYS[2], ARGV[4], 'EX', 600)
  return {1, ARGV[2]}
end
return {0, rec}
`;

export type Reservation =
  | { kind: 'new' | 'reserved'; record: string; createdAtMs: number; suffix: string; /** When this ledger started (its sentinel key). */ epochMs?: number }
  | { kind: 'done'; message: Message }
  | { kind: 'limited'; retryAfterMs: number };

/** The ledger's record of a finished send, from the message as acked (its JSON). */
const doneRecord = (json: string) => `d|${json}`;

const parse = (record: string): Reservation => {
  if (record.startsWith('d|')) return { kind: 'done', message: JSON.parse(record.slice(2)) as Message };
  const [, ts, suffix] = record.split('|');
  return { kind: 'reserved', record, createdAtMs: Number(ts), suffix: suffix! };
};

export class SendLedger {
  private readonly scripts: {
    sendReserve(...args: Array<string | number>): Promise<unknown>;
    sendComplete(...args: Array<string | number>): Promise<unknown>;
  };

  constructor(
    private readonly redis: Redis,
    private readonly opts: { rateLimit: number; rateWindowMs: number; ttlSeconds: number },
  ) {
    // Defined commands run by SHA (EVALSHA), so the scripts are not resent with every message.
    redis.defineCommand('sendReserve', { numberOfKeys: 4, lua: RESERVE });
    redis.defineCommand('sendComplete', { numberOfKeys: 2, lua: COMPLETE });
    this.scripts = redis as unknown as SendLedger['scripts'];
  }

  private idemKey = (senderId: string, clientMsgId: string) => `send:idem:${senderId}:${Buffer.from(clientMsgId).toString('base64url')}`;
  private recentKey = (messageId: string) => `msg:recent:${messageId}`;

  async reserve(senderId: string, clientMsgId: string, conversationId: string, suffix: string): Promise<Reservation> {
    const [status, value, epoch] = (await this.scripts.sendReserve(
      this.idemKey(senderId, clientMsgId),
      `send:rate:${senderId}`,
      `send:clock:${conversationId}`,
      'send:epoch',
      Date.now(),
      this.opts.rateLimit,
      this.opts.rateWindowMs,
      suffix,
      this.opts.ttlSeconds,
    )) as [string, string, string];
    if (status === 'limited') return { kind: 'limited', retryAfterMs: Math.max(0, Number(value)) };
    const r = parse(value);
    return status === 'new' && r.kind === 'reserved' ? { ...r, kind: 'new', epochMs: Number(epoch) } : r;
  }

  /**
   * At start: a ledger without its sentinel over a store that holds no message has lost nothing
   * (a new deployment, a fresh test stack); its epoch is set to 0 so no send is ever looked up.
   * Over a store with messages, the first send sets the epoch instead (the ledger was lost).
   */
  async initEpoch(storeHasMessages: () => Promise<boolean>): Promise<void> {
    if (await this.redis.exists('send:epoch')) return;
    if (!(await storeHasMessages())) await this.redis.set('send:epoch', '0', 'NX');
  }

  /** True when this call completed the send (and so must broadcast it); false if another did. */
  async complete(senderId: string, clientMsgId: string, record: string, message: Message): Promise<{ won: boolean; message: Message }> {
    const json = JSON.stringify(message);
    const [won, value] = (await this.scripts.sendComplete(
      this.idemKey(senderId, clientMsgId),
      this.recentKey(message.id),
      record,
      doneRecord(json),
      this.opts.ttlSeconds,
      json,
    )) as [number, string];
    return { won: won === 1, message: won === 1 ? message : (JSON.parse(value.slice(2)) as Message) };
  }

  /**
   * The store kept `kept` for its (sender, clientMsgId) and turned `droppedId` away (a resend
   * acked with a new id after this ledger was lost). The kept one becomes the done record,
   * whatever the record holds now, so any later resend is answered with it; a resend in flight
   * meanwhile completes against it (COMPLETE finds its reservation gone). The dropped one leaves
   * the recent cache, so an edit or reaction on it is not_found instead of being accepted for a
   * message that never exists.
   */
  async supersede(droppedId: string, kept: Message): Promise<void> {
    await this.redis
      .multi()
      .set(this.idemKey(kept.senderId, kept.clientMsgId), doneRecord(JSON.stringify(kept)), 'EX', this.opts.ttlSeconds)
      .del(this.recentKey(droppedId))
      .exec();
  }

  /** Recently sent or changed messages, readable before the store has caught up. */
  async recent(messageId: string): Promise<Message | null> {
    const v = await this.redis.get(this.recentKey(messageId));
    return v ? (JSON.parse(v) as Message) : null;
  }

  async remember(message: Message): Promise<void> {
    await this.redis.set(this.recentKey(message.id), JSON.stringify(message), 'EX', 600);
  }
}
