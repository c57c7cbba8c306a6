import { describe, expect, it } from 'vitest';
import type { MessageSupersededEvent } from '@chat/shared/events/bus';
import type { Logger } from '@chat/shared/log';
import type { Message } from '@chat/shared/models/types';
import type { ConversationsRepository } from '@chat/shared/repositories/conversations';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import type { ThreadSubscriptionsRepository } from '@chat/shared/repositories/threads';
import { makeMessage } from '../../../test/fixtures.ts';
import { EventsService, supersession } from './events.service.ts';
import type { ChunkPlacer } from './history/placer.ts';
import type { ReadsService } from './reads.service.ts';
import type { ThreadsService } from './threads.service.ts';

/**
 * The store's side of a message turned away by the unique (sender, clientMsgId) index: an
 * in-memory store with that index, the service as it runs. Which of the two indexes refused an
 * insert is the service's to find out (FerretDB's error names no index).
 */
function harness(stored: Message[] = []) {
  const byId = new Map(stored.map((m) => [m.id, m]));
  const pair = (m: Pick<Message, 'senderId' | 'clientMsgId'>) => `${m.senderId}\u0000${m.clientMsgId}`;
  const byPair = new Map(stored.map((m) => [pair(m), m]));
  const reads = { exists: 0, pair: 0 };
  const touches: Array<{ id: string; messageId: string; stored: number; sent: Record<string, number> }> = [];
  /** The copy of the last message each conversation touch carried. */
  const lasts: Array<string | undefined> = [];
  const announced: MessageSupersededEvent[] = [];
  const broker = { away: false };
  const messages = {
    insertIdempotent: async (ms: Message[]) =>
      ms.flatMap((m) => {
        if (byId.has(m.id) || byPair.has(pair(m))) return [];
        byId.set(m.id, m);
        byPair.set(pair(m), m);
        return [m.id];
      }),
    exists: async (id: string) => {
      reads.exists++;
      return byId.has(id);
    },
    findBySenderAndClientMsgId: async (senderId: string, clientMsgId: string) => {
      reads.pair++;
      return byPair.get(pair({ senderId, clientMsgId })) ?? null;
    },
    findById: async (id: string) => byId.get(id) ?? null,
    touchThread: async () => {},
  } as unknown as MessagesRepository;
  const conversations = {
    touchLastMessage: async (id: string, t: { messageId: string; stored: number; sent: Record<string, number>; last?: Message }) => {
      touches.push({ id, messageId: t.messageId, stored: t.stored, sent: t.sent });
      lasts.push(t.last?.id);
    },
  } as unknown as ConversationsRepository;
  const placer = { place: async (_stream: string, ids: string[]) => ({ chunks: ids.map(() => 0), open: { no: 0, start: '', base: 0 } }) } as unknown as ChunkPlacer;
  const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} } as unknown as Logger;
  const service = new EventsService({
    messages,
    conversations,
    placer,
    threadPlacer: placer,
    reads: {} as ReadsService,
    threads: {} as ThreadsService,
    subscriptions: {} as ThreadSubscriptionsRepository,
    announceThread: () => {},
    announceSuperseded: async (e) => {
      if (broker.away) throw new Error('broker away');
      announced.push(e);
    },
    log: quiet,
  });
  const created = (...ms: Message[]) => service.apply(ms.map((message) => ({ topic: 'message.created' as const, event: { message } })));
  return { created, touches, lasts, announced, reads, byId, broker };
}

const first = makeMessage('c1', 'alice', 'in the queue', { clientMsgId: 'queued-1' });
// The resend after Redis lost the ledger: same sender and clientMsgId, a newer id.
const resend = makeMessage('c1', 'alice', 'in the queue', { clientMsgId: 'queued-1' });

describe('a message.created turned away by the unique (sender, clientMsgId) index', () => {
  it('is announced as superseded by the one stored, which is counted once and stays the last message', async () => {
    const h = harness();
    expect(await h.created(first)).toEqual({ stored: 1 });
    expect(await h.created(resend)).toEqual({ stored: 0 });
    expect(h.announced).toEqual([{ conversationId: 'c1', messageId: resend.id, message: first }]);
    expect(h.touches.reduce((n, t) => n + t.stored, 0)).toBe(1);
    // The dropped id is never stored, so it must not become the conversation's last message.
    expect(h.touches.map((t) => t.messageId)).toEqual([first.id]);
    expect(h.lasts).toEqual([first.id]);
    expect(h.byId.has(resend.id)).toBe(false);
  });

  it('in one batch with the message it collides with: the first of the batch is kept, the other announced', async () => {
    const h = harness();
    expect(await h.created(first, resend)).toEqual({ stored: 1 });
    expect(h.announced).toEqual([{ conversationId: 'c1', messageId: resend.id, message: first }]);
    expect(h.touches).toEqual([{ id: 'c1', messageId: first.id, stored: 1, sent: { alice: 1 } }]);
    // The record's copy is of the kept message, never of the one turned away.
    expect(h.lasts).toEqual([first.id]);
  });

  it('the resend stored first: the first event is the one dropped, and announced as such', async () => {
    const h = harness();
    await h.created(resend);
    await h.created(first);
    expect(h.announced).toEqual([{ conversationId: 'c1', messageId: first.id, message: resend }]);
  });

  it('a plain redelivery (its own id stored) announces nothing and reads only its _id', async () => {
    const h = harness();
    await h.created(first);
    await h.created(first);
    expect(h.announced).toEqual([]);
    expect(h.reads).toEqual({ exists: 1, pair: 0 });
    expect(h.touches.map((t) => t.stored)).toEqual([1, 0]);
  });

  it('a batch stored whole reads nothing more', async () => {
    const h = harness();
    await h.created(first, makeMessage('c1', 'bob', 'other'));
    expect(h.reads).toEqual({ exists: 0, pair: 0 });
  });

  it('a failed announcement fails the call, and the redelivery announces it again', async () => {
    const h = harness([first]);
    h.broker.away = true;
    await expect(h.created(resend)).rejects.toThrow('broker away');
    h.broker.away = false;
    await h.created(resend);
    expect(h.announced).toEqual([{ conversationId: 'c1', messageId: resend.id, message: first }]);
  });
});

describe('supersession', () => {
  it('names the dropped id and the kept message', () => {
    expect(supersession(resend, first)).toEqual({ conversationId: 'c1', messageId: resend.id, message: first });
  });
  it('is nothing for the message itself or for nothing stored', () => {
    expect(supersession(first, first)).toBeNull();
    expect(supersession(first, null)).toBeNull();
  });
  it('is nothing when the kept message is in another conversation: its members are not this one', () => {
    expect(supersession(resend, { ...first, conversationId: 'c2' })).toBeNull();
  });
});
