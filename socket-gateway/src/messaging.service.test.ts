import { describe, expect, it, vi } from 'vitest';
import { plainMessageFields, type Message, type ThreadSummary } from '@chat/shared/models/types';
import { MentionResolver } from './mentions.ts';
import { MessagingService } from './messaging.service.ts';
import type { Reservation, SendLedger } from './send-ledger.ts';

const stored: Message = {
  id: '0000018f0000000000000001',
  conversationId: 'c1',
  senderId: 'u1',
  clientMsgId: 'k1',
  body: 'hello',
  attachments: [],
  replyToId: null,
  reactions: [],
  createdAt: new Date(1_700_000_000_000).toISOString(),
  editedAt: null,
  deletedAt: null,
  ...plainMessageFields(),
};

/** No live announcement wanted. */
const quiet = () => undefined;

/** The service with its boundaries faked: a ledger that misses, a store that may hold the message. */
function service(epochAgoMs: number, inStore: Message | null, recoveryMs = 900_000) {
  const ledger = {
    reserve: vi.fn(async (): Promise<Reservation> => ({ kind: 'new', record: 'r|1|abc', createdAtMs: Date.now(), suffix: 'abcdefabcdef', epochMs: Date.now() - epochAgoMs })),
    complete: vi.fn(async (_s: string, _c: string, _r: string, m: Message) => ({ won: true, message: m })),
  };
  const messages = { findBySenderAndClientMsgId: vi.fn(async () => inStore) };
  const publisher = { publish: vi.fn(async () => undefined), connected: () => true, close: async () => undefined };
  const svc = new MessagingService({
    ledger: ledger as unknown as SendLedger,
    membership: { get: async () => ({ members: new Set(['u1', 'u2']), admins: new Set(), type: 'group', expires: Infinity }) } as never,
    publisher,
    messages: messages as never,
    resolveAttachments: async () => [],
    mentions: { resolve: async () => [] },
    ledgerRecoveryMs: recoveryMs,
  });
  return { svc, ledger, messages, publisher };
}

describe('MessagingService.send after the send ledger lost its data', () => {
  it('answers a resend of a stored message with that message, not broadcast, and teaches the ledger', async () => {
    const { svc, ledger, messages, publisher } = service(5_000, stored);
    const announce = vi.fn();
    expect(await svc.send('u1', { conversationId: 'c1', clientMsgId: 'k1', body: 'hello' }, announce)).toEqual(stored);
    expect(announce).not.toHaveBeenCalled();
    expect(messages.findBySenderAndClientMsgId).toHaveBeenCalledWith('u1', 'k1');
    expect(publisher.publish).not.toHaveBeenCalled();
    expect(ledger.complete).toHaveBeenCalledWith('u1', 'k1', 'r|1|abc', stored);
  });

  it('sends a new message as new, after one lookup inside the window', async () => {
    const { svc, messages, publisher } = service(5_000, null);
    const announce = vi.fn();
    const m = await svc.send('u1', { conversationId: 'c1', clientMsgId: 'k2', body: 'new' }, announce);
    expect(announce).toHaveBeenCalledExactlyOnceWith(m);
    expect(messages.findBySenderAndClientMsgId).toHaveBeenCalledTimes(1);
    expect(publisher.publish).toHaveBeenCalledTimes(1);
  });

  it('never asks the store outside the window (a ledger that has lost nothing recently), nor with the lookup off', async () => {
    for (const s of [service(3_600_000, stored), service(5_000, stored, 0)]) {
      const announce = vi.fn();
      const m = await s.svc.send('u1', { conversationId: 'c1', clientMsgId: 'k1', body: 'hello' }, announce);
      expect(announce).toHaveBeenCalledExactlyOnceWith(m);
      expect(s.messages.findBySenderAndClientMsgId).not.toHaveBeenCalled();
    }
  });

  it('does not answer with a message of another conversation', async () => {
    const { svc, publisher } = service(5_000, { ...stored, conversationId: 'c9' });
    const announce = vi.fn();
    const m = await svc.send('u1', { conversationId: 'c1', clientMsgId: 'k1', body: 'hello' }, announce);
    expect(m.conversationId).toBe('c1');
    expect(announce).toHaveBeenCalledExactlyOnceWith(m);
    expect(publisher.publish).toHaveBeenCalledTimes(1);
  });
});

describe('MessagingService mentions', () => {
  const members = {
    get: async () => ({ members: new Set(['u1', 'u2', 'u3']), admins: new Set(), type: 'group', expires: Infinity }),
    isMember: async (_c: string, u: string) => ['u1', 'u2', 'u3'].includes(u),
  } as never;
  const users = [
    { id: 'u1', username: 'ann' },
    { id: 'u2', username: 'bob' },
    { id: 'u3', username: 'cy' },
    { id: 'u9', username: 'outsider' },
  ];

  function withResolver(online: string[] = []) {
    const lookups: string[][] = [];
    const mentions = new MentionResolver({
      users: { findByIds: async (ids) => (lookups.push(ids), users.filter((u) => ids.includes(u.id))) },
      presence: { onlineAmong: async (ids) => new Set(ids.filter((i) => online.includes(i))) },
    });
    const publisher = { publish: vi.fn(async () => undefined), connected: () => true, close: async () => undefined };
    const ledger = {
      reserve: vi.fn(async () => ({ kind: 'new' as const, record: 'r', createdAtMs: Date.now(), suffix: 'abcdefabcdef' })),
      complete: vi.fn(async (_s: string, _c: string, _r: string, m: Message) => ({ won: true, message: m })),
      recent: vi.fn(async () => stored),
      remember: vi.fn(async () => undefined),
    };
    const svc = new MessagingService({ ledger: ledger as never, membership: members, publisher, messages: { findById: async () => null } as never, resolveAttachments: async () => [], mentions });
    return { svc, publisher, lookups };
  }

  it('puts the members it mentions on the message and its event, not outsiders', async () => {
    const { svc, publisher } = withResolver();
    const message = await svc.send('u1', { conversationId: 'c1', clientMsgId: 'k', body: '@cy @outsider and @Bob' }, quiet);
    expect(message.mentions).toEqual(['u3', 'u2']);
    expect(publisher.publish).toHaveBeenCalledWith('message.created', expect.objectContaining({ message: expect.objectContaining({ mentions: ['u3', 'u2'] }) }), expect.anything());
  });

  it('gives @here the members online now', async () => {
    const { svc } = withResolver(['u1', 'u3']);
    expect((await svc.send('u1', { conversationId: 'c1', clientMsgId: 'k', body: 'hey @here' }, quiet)).mentions).toEqual(['u3']);
  });

  it('re-reads mentions on an edit and publishes them with it', async () => {
    const { svc, publisher } = withResolver();
    const updated = await svc.edit('u1', { messageId: stored.id, body: 'now @bob' });
    expect(updated.mentions).toEqual(['u2']);
    expect(publisher.publish).toHaveBeenCalledWith('message.updated', expect.objectContaining({ kind: 'edit', mentions: ['u2'] }));
  });

  it('looks usernames up once, and not at all for a body without "@"', async () => {
    const { svc, lookups } = withResolver();
    await svc.send('u1', { conversationId: 'c1', clientMsgId: 'k1', body: 'no mention' }, quiet);
    expect(lookups).toEqual([]);
    await svc.send('u1', { conversationId: 'c1', clientMsgId: 'k2', body: '@bob' }, quiet);
    await svc.send('u1', { conversationId: 'c1', clientMsgId: 'k3', body: '@cy' }, quiet);
    expect(lookups).toEqual([['u1', 'u2', 'u3']]);
  });
});

describe('MessagingService reads of the message a change or a check names', () => {
  const summary: ThreadSummary = { replyCount: 3, lastReplyAt: new Date(1_700_000_100_000).toISOString(), participantIds: ['u2'] };
  function withCache(cached: Message, inStore: Message | null) {
    const members = {
      get: async () => ({ members: new Set(['u1', 'u2']), admins: new Set(), type: 'group', expires: Infinity }),
      isMember: async (_c: string, u: string) => ['u1', 'u2'].includes(u),
    } as never;
    const ledger = {
      reserve: vi.fn(async () => ({ kind: 'new' as const, record: 'r', createdAtMs: Date.now(), suffix: 'abcdefabcdef' })),
      complete: vi.fn(async (_s: string, _c: string, _r: string, m: Message) => ({ won: true, message: m })),
      recent: vi.fn(async (id: string) => (id === cached.id ? cached : null)),
      remember: vi.fn(async () => undefined),
    };
    const messages = { findById: vi.fn(async () => inStore) };
    const publisher = { publish: vi.fn(async () => undefined), connected: () => true, close: async () => undefined };
    const svc = new MessagingService({ ledger: ledger as never, membership: members, publisher, messages: messages as never, resolveAttachments: async () => [], mentions: { resolve: async () => [] } });
    return { svc, messages };
  }

  it('checks a cached reply target, thread root or read position without reading the store', async () => {
    const { svc, messages } = withCache(stored, stored);
    const message = await svc.send('u1', { conversationId: 'c1', clientMsgId: 'k9', body: 'in the thread', replyToId: stored.id, threadRootId: stored.id }, quiet);
    expect(message).toMatchObject({ replyToId: stored.id, threadRootId: stored.id });
    await svc.markRead('u2', { conversationId: 'c1', messageId: stored.id });
    expect(messages.findById).not.toHaveBeenCalled();
  });

  it('an edit of a cached thread root goes out with the summary the store has, not the cached one', async () => {
    const { svc, messages } = withCache({ ...stored, thread: null }, { ...stored, thread: summary });
    const updated = await svc.edit('u1', { messageId: stored.id, body: 'edited' });
    expect(messages.findById).toHaveBeenCalledWith(stored.id);
    expect(updated).toMatchObject({ body: 'edited', thread: summary });
  });
});

describe('MessagingService.send announces a message live once it is published', () => {
  const input = { conversationId: 'c1', clientMsgId: 'k1', body: 'hello' };

  it('a first attempt announces before the ledger records it done, so a gateway dying in between leaves a resend that announces it', async () => {
    const { svc, ledger, publisher } = service(3_600_000, null);
    const order: string[] = [];
    publisher.publish.mockImplementation(async () => void order.push('publish'));
    ledger.complete.mockImplementation(async () => {
      order.push('complete');
      throw new Error('the gateway died here');
    });
    const announce = vi.fn((m: Message) => void order.push(`announce ${m.clientMsgId}`));
    await expect(svc.send('u1', input, announce)).rejects.toThrow('died');
    expect(order).toEqual(['publish', 'announce k1', 'complete']);
  });

  it('a resend of a reserved record announces only if it is the one that records it done', async () => {
    for (const won of [true, false]) {
      const { svc, ledger } = service(3_600_000, null);
      ledger.reserve.mockResolvedValue({ kind: 'reserved', record: 'r|1|abc', createdAtMs: Date.now(), suffix: 'abcdefabcdef', epochMs: 0 });
      ledger.complete.mockImplementation(async (_s: string, _c: string, _r: string, m: Message) => ({ won, message: m }));
      const announce = vi.fn();
      const m = await svc.send('u1', input, announce);
      expect(announce.mock.calls.map(([a]) => (a as Message).id)).toEqual(won ? [m.id] : []);
    }
  });

  it('a resend of a done record announces nothing and publishes nothing', async () => {
    const { svc, ledger, publisher } = service(3_600_000, null);
    ledger.reserve.mockResolvedValue({ kind: 'done', message: stored });
    const announce = vi.fn();
    expect(await svc.send('u1', input, announce)).toEqual(stored);
    expect(announce).not.toHaveBeenCalled();
    expect(publisher.publish).not.toHaveBeenCalled();
  });

  it('a publish that fails announces nothing', async () => {
    const { svc, publisher } = service(3_600_000, null);
    publisher.publish.mockRejectedValue(new Error('broker away'));
    const announce = vi.fn();
    await expect(svc.send('u1', input, announce)).rejects.toThrow('broker away');
    expect(announce).not.toHaveBeenCalled();
  });
});
