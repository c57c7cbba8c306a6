import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../../log.ts';
import { eventDispatcher } from './dispatch.ts';

const log = createLogger('test', 'error');

function fakeChannel() {
  const settled: Array<[string, string]> = [];
  const ch = {
    ack: (m: ConsumeMessage) => settled.push(['ack', m.content.toString()]),
    nack: (m: ConsumeMessage, _all: boolean, requeue: boolean) => settled.push([requeue ? 'requeue' : 'dead-letter', m.content.toString()]),
  } as unknown as Channel;
  return { ch, settled };
}

const msg = (routingKey: string, body: unknown) =>
  ({ fields: { routingKey }, content: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) }) as unknown as ConsumeMessage;

const schema = z.object({ conversationId: z.string(), n: z.number() });

describe('eventDispatcher', () => {
  it('acks applied events, dead-letters malformed ones, and acks keys it has no handler for', async () => {
    const applied: unknown[] = [];
    const dispatch = eventDispatcher({ handlers: { 'conversation.created': { schema, apply: async (e) => void applied.push(e) } }, log, maxAttempts: 3, backoff: { baseMs: 1, maxMs: 1 } });
    const { ch, settled } = fakeChannel();
    await dispatch(ch, msg('conversation.created', { conversationId: 'c1', n: 1 }));
    await dispatch(ch, msg('conversation.created', { conversationId: 'c1' }));
    await dispatch(ch, msg('conversation.created', '{not json'));
    await dispatch(ch, msg('conversation.renamed', { conversationId: 'c1' }));
    expect(applied).toEqual([{ conversationId: 'c1', n: 1 }]);
    expect(settled.map((s) => s[0])).toEqual(['ack', 'dead-letter', 'dead-letter', 'ack']);
  });

  it('retries a failing event with backoff, then dead-letters it; never acks it unapplied', async () => {
    let calls = 0;
    const dispatch = eventDispatcher({
      handlers: { k: { schema, apply: async () => { calls++; throw new Error('store down'); } } },
      log,
      maxAttempts: 4,
      backoff: { baseMs: 1, maxMs: 2 },
    });
    const { ch, settled } = fakeChannel();
    await dispatch(ch, msg('k', { conversationId: 'c1', n: 1 }));
    expect(calls).toBe(4);
    expect(settled).toEqual([['dead-letter', JSON.stringify({ conversationId: 'c1', n: 1 })]]);

    let failures = 2;
    const recovering = eventDispatcher({
      handlers: { k: { schema, apply: async () => { if (failures-- > 0) throw new Error('blip'); } } },
      log,
      maxAttempts: 4,
      backoff: { baseMs: 1, maxMs: 2 },
    });
    const second = fakeChannel();
    await recovering(second.ch, msg('k', { conversationId: 'c1', n: 2 }));
    expect(second.settled.map((s) => s[0])).toEqual(['ack']);
  });

  it('applies one conversation\'s events in arrival order, even when an earlier one is retrying', async () => {
    const order: number[] = [];
    let firstFails = true;
    const apply = vi.fn(async (e: { n: number }) => {
      if (e.n === 1 && firstFails) {
        firstFails = false;
        throw new Error('blip');
      }
      order.push(e.n);
    });
    const dispatch = eventDispatcher({ handlers: { k: { schema, apply } }, log, maxAttempts: 3, backoff: { baseMs: 5, maxMs: 5 }, orderKey: (e) => (e as { conversationId: string }).conversationId });
    const { ch } = fakeChannel();
    await Promise.all([dispatch(ch, msg('k', { conversationId: 'c1', n: 1 })), dispatch(ch, msg('k', { conversationId: 'c1', n: 2 })), dispatch(ch, msg('k', { conversationId: 'c2', n: 3 }))]);
    expect(order.indexOf(1)).toBeLessThan(order.indexOf(2));
    // Another conversation does not wait behind c1's retry.
    expect(order.indexOf(3)).toBeLessThan(order.indexOf(1));
  });
});
