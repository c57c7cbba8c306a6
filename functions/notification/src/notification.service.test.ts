import { describe, expect, it } from 'vitest';
import type { MessageCreatedEvent } from '@chat/shared/events/bus';
import { createLogger } from '@chat/shared/log';
import type { ConversationRecord } from '@chat/shared/repositories/conversations';
import type { PushSubscriptionRecord } from '@chat/shared/repositories/notifications';
import { NotificationService } from './notification.service.ts';
import { plainMessageFields, type Message } from '@chat/shared/models/types';
import { parseAllowedOrigins } from './origins.ts';

/**
 * How many conversation reads a batch costs, with the store and Redis faked at their boundary
 * (the pushes themselves are covered against the real stack in notification.int.test.ts).
 */
const group = (id: string, memberIds: string[]): ConversationRecord => ({
  id,
  type: 'group',
  title: id,
  memberIds,
  admins: [],
  lastMessageId: null,
  chunk: { no: 0, start: '', base: 0 },
  msgCount: 0,
  sent: {},
  mentioned: {},
  sysCount: 0,
  rev: 0,
  outbox: [],
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

const event = (conversationId: string, senderId: string, n: number, memberIds?: string[]): MessageCreatedEvent => ({
  message: {
    id: `m${n}`,
    conversationId,
    senderId,
    clientMsgId: `c${n}`,
    body: 'hi',
    attachments: [],
    replyToId: null,
    reactions: [],
    createdAt: new Date(0).toISOString(),
    editedAt: null,
    deletedAt: null,
    ...plainMessageFields(),
  },
  memberIds,
});

function setup(opts: { conversations: ConversationRecord[]; online: string[]; devices: string[]; follows?: Array<{ userId: string; following: boolean | null }>; rootAuthor?: string; prefs?: Map<string, { muted: boolean; level: string }> }) {
  const reads: string[] = [];
  const byId = new Map(opts.conversations.map((c) => [c.id, c]));
  const device = (userId: string): PushSubscriptionRecord => ({ userId, endpoint: `https://push.example/${userId}`, keys: { p256dh: 'k', auth: 'a' } }) as PushSubscriptionRecord;
  const pushed: string[] = [];
  const service = new NotificationService({
    config: { PUSH_ALLOWED_ORIGINS: parseAllowedOrigins('https://push.example'), PUSH_CONCURRENCY: 1, PUSH_DEDUPE_TTL_SECONDS: 60 },
    conversations: {
      findById: async (id: string) => {
        reads.push(id);
        return byId.get(id) ?? null;
      },
    },
    presence: { onlineAmong: async (ids: string[]) => new Set(ids.filter((u) => opts.online.includes(u))) },
    subscriptions: { findForUsers: async (ids: string[]) => ids.filter((u) => opts.devices.includes(u)).map(device) },
    preferences: { forPairs: async () => opts.prefs ?? new Map() },
    users: { findByIds: async () => [] },
    threads: { forRoot: async () => opts.follows ?? [] },
    messages: { findById: async (id: string) => (opts.rootAuthor ? { id, senderId: opts.rootAuthor } : null) },
    redis: { pipeline: () => ({ set() {}, exec: async () => pushedClaims }) },
    sender: {
      send: async (sub: PushSubscriptionRecord) => {
        pushed.push(sub.userId);
        return { result: 'sent' };
      },
    },
    log: createLogger('test'),
  } as unknown as ConstructorParameters<typeof NotificationService>[0]);
  // Every claim is won: this suite counts reads, not dedupe.
  const pushedClaims = Array.from({ length: 100 }, () => [null, 'OK']);
  return { service, reads, pushed };
}

describe('NotificationService.onMessagesCreated', () => {
  it('reads no conversation when the events name their recipients and all of them are online', async () => {
    const { service, reads } = setup({ conversations: [group('g1', ['a', 'b', 'c'])], online: ['b', 'c'], devices: ['b', 'c'] });
    const counts = await service.onMessagesCreated([event('g1', 'a', 1, ['a', 'b', 'c']), event('g1', 'b', 2, ['a', 'b', 'c'])]);
    // 'a' sent m1 but is a recipient of m2, and is offline without a device.
    expect(counts).toEqual([0, 0]);
    expect(reads).toEqual([]);
  });

  it('reads each conversation once, and only those with someone to push to', async () => {
    const convs = [group('g1', ['a', 'b']), group('g2', ['a', 'c'])];
    const { service, reads, pushed } = setup({ conversations: convs, online: [], devices: ['b'] });
    const counts = await service.onMessagesCreated([event('g1', 'a', 1, ['a', 'b']), event('g2', 'a', 2, ['a', 'c']), event('g1', 'a', 3, ['a', 'b'])]);
    expect(counts).toEqual([1, 0, 1]);
    expect(reads).toEqual(['g1']);
    await service.drain(1000);
    expect(pushed).toEqual(['b', 'b']);
  });

  it('looks the members up for an event that does not name them (published before the field existed)', async () => {
    const { service, reads } = setup({ conversations: [group('g1', ['a', 'b'])], online: [], devices: ['b'] });
    expect(await service.onMessagesCreated([event('g1', 'a', 1), event('g1', 'a', 2)])).toEqual([1, 1]);
    expect(reads).toEqual(['g1']);
  });

  it('never pushes a system message (a rename, a member added): it is history, not news', async () => {
    const { service, reads, pushed } = setup({ conversations: [group('g1', ['a', 'b'])], online: [], devices: ['b'] });
    const sys = event('g1', 'a', 1, ['a', 'b']);
    sys.message = { ...sys.message, body: '', kind: 'system', system: { type: 'renamed', actorId: 'a', title: 'X', previousTitle: null } };
    expect(await service.onMessagesCreated([sys, event('g1', 'a', 2, ['a', 'b'])])).toEqual([0, 1]);
    await service.drain(1000);
    expect(pushed).toEqual(['b']);
    expect(reads).toEqual(['g1']);
  });

  it('pushes only to recipients who are still members', async () => {
    const { service, pushed } = setup({ conversations: [group('g1', ['a', 'b'])], online: [], devices: ['b', 'c'] });
    expect(await service.onMessagesCreated([event('g1', 'a', 1, ['a', 'b', 'c'])])).toEqual([1]);
    await service.drain(1000);
    expect(pushed).toEqual(['b']);
  });

  it('a reply kept in its thread pushes to its followers, the root author unless they unfollowed, and the mentioned', async () => {
    const members = ['a', 'b', 'c', 'd', 'e'];
    const reply = (n: number, extra: Partial<Message>) => {
      const e = event('g1', 'b', n, members);
      return { ...e, message: { ...e.message, threadRootId: 'root', ...extra } };
    };
    const follows = [
      { userId: 'c', following: true },
      { userId: 'd', following: false },
    ];
    const run = async (rootAuthor: string, extra: Partial<Message>) => {
      const { service, pushed } = setup({ conversations: [group('g1', members)], online: [], devices: members, follows, rootAuthor });
      await service.onMessagesCreated([reply(1, extra)]);
      await service.drain(1000);
      return pushed.sort();
    };
    expect(await run('a', {})).toEqual(['a', 'c']);
    // d unfollowed, but being mentioned reaches them; e is mentioned too.
    expect(await run('a', { mentions: ['d', 'e'] })).toEqual(['a', 'c', 'd', 'e']);
    // The root's author who unfollowed hears nothing.
    expect(await run('d', {})).toEqual(['c']);
    // Also to the channel: every member but the sender.
    expect(await run('a', { alsoToChannel: true })).toEqual(['a', 'c', 'd', 'e']);
  });
});

describe('NotificationService push levels', () => {
  it('follows each recipient level: all pushes, mentions only when mentioned, none never', async () => {
    const big = group('g1', ['a', 'b', 'c', 'd', ...Array.from({ length: 10 }, (_, i) => `x${i}`)]);
    const prefs = new Map([
      ['g1:b', { muted: false, level: 'all' }],
      ['g1:d', { muted: true, level: 'none' }],
    ]);
    const { service, pushed } = setup({ conversations: [big], online: [], devices: ['b', 'c', 'd'], prefs });
    const plain = event('g1', 'a', 1, big.memberIds);
    const mentioning = { ...event('g1', 'a', 2, big.memberIds) };
    mentioning.message = { ...mentioning.message, mentions: ['c', 'd'] };
    expect(await service.onMessagesCreated([plain, mentioning])).toEqual([1, 2]);
    await service.drain(1000);
    // b chose all; c has the default of a group over 10 members (mentions); d muted it.
    expect(pushed.sort()).toEqual(['b', 'b', 'c']);
  });
});
