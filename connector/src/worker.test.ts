import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '@chat/shared/log';
import type { InvokeRequest, InvokeResult } from './invoker.ts';
import { FunctionWorker, type Delivery } from './worker.ts';

const log = createLogger('test', 'error');
const policy = { maxAttempts: 4, permanentMaxAttempts: 2, baseMs: 100, maxMs: 1000 };

/** A worker over a fake function (answers per call) and a fake broker (records acks and copies). */
function harness(answer: (req: InvokeRequest, n: number) => InvokeResult | Promise<InvokeResult>, opts: { failRepublish?: boolean } = {}) {
  const calls: InvokeRequest[] = [];
  const acks: Array<[number, boolean]> = [];
  const nacks: number[] = [];
  const copies: Array<{ queue: string; tag: number; headers: Record<string, unknown> }> = [];
  const worker = new FunctionWorker({
    fn: 'db',
    invoke: async (_fn, req) => {
      calls.push(req);
      return answer(req, calls.length);
    },
    port: {
      ack: (t, m) => acks.push([t, m]),
      nack: (t) => nacks.push(t),
      republish: async (queue, d, headers) => {
        if (opts.failRepublish) throw new Error('channel closed');
        copies.push({ queue, tag: d.tag, headers });
      },
    },
    policy,
    batch: { maxItems: 3, maxBytes: 10_000, maxWaitMs: 1 },
    maxInFlight: 2,
    log,
  });
  return { worker, calls, acks, nacks, copies };
}

const delivery = (tag: number, over: Partial<Delivery> = {}): Delivery => ({
  tag,
  topic: 'message.created',
  body: Buffer.from(JSON.stringify({ message: { id: `m${tag}` } })),
  attempts: 0,
  headers: {},
  properties: {},
  ...over,
});

const ok: InvokeResult = { status: 200, detail: '' };

describe('FunctionWorker', () => {
  it('sends full batches as one X-Batch call and acks them with a multiple ack', async () => {
    const h = harness(() => ok);
    [1, 2, 3, 4, 5, 6].forEach((t) => h.worker.receive(delivery(t)));
    await h.worker.drain();
    expect(h.calls.map((c) => c.batch)).toEqual([true, true]);
    expect(JSON.parse(h.calls[0]!.body)).toEqual([1, 2, 3].map((t) => ({ topic: 'message.created', event: { message: { id: `m${t}` } } })));
    expect(h.acks.at(-1)).toEqual([6, true]);
    expect(h.copies).toEqual([]);
  });

  it('sends a lone delivery as a plain call with X-Topic', async () => {
    const h = harness(() => ok);
    h.worker.receive(delivery(1, { topic: 'message.deleted' }));
    await new Promise((r) => setTimeout(r, 5));
    await h.worker.drain();
    expect(h.calls).toEqual([{ body: JSON.stringify({ message: { id: 'm1' } }), topic: 'message.deleted', batch: false }]);
    expect(h.acks).toEqual([[1, false]]);
  });

  it('on a 5xx or no answer, re-queues every delivery of the batch into the backoff queue, then acks', async () => {
    const h = harness(() => ({ status: 0, detail: 'ECONNREFUSED' }));
    [1, 2, 3].forEach((t) => h.worker.receive(delivery(t, { attempts: t === 3 ? 1 : 0 })));
    await h.worker.drain();
    expect(h.copies.map((c) => [c.tag, c.queue, c.headers['x-chat-attempts']])).toEqual([
      [1, 'chat.fn.db.retry.100', 1],
      [2, 'chat.fn.db.retry.100', 1],
      [3, 'chat.fn.db.retry.200', 2],
    ]);
    expect(h.copies[0]!.headers).toMatchObject({ 'x-chat-topic': 'message.created', 'x-chat-last-status': 0 });
    expect(h.acks.at(-1)![0]).toBe(3);
  });

  it('dead-letters after the last attempt, with function, topic and status headers', async () => {
    const h = harness(() => ({ status: 503, detail: 'down' }));
    h.worker.receive(delivery(7, { attempts: 3, headers: { 'x-chat-attempts': 3 } }));
    await new Promise((r) => setTimeout(r, 5));
    await h.worker.drain();
    expect(h.copies).toHaveLength(1);
    expect(h.copies[0]!.queue).toBe('chat.events.dlq');
    expect(h.copies[0]!.headers).toMatchObject({ 'x-chat-function': 'db', 'x-chat-topic': 'message.created', 'x-chat-attempts': 4, 'x-chat-last-status': 503 });
    expect(h.acks).toEqual([[7, false]]);
  });

  it('isolates a refused event: a 400 batch is retried one by one, so only the bad one is re-queued', async () => {
    let open = 0;
    let mostOpen = 0;
    const h = harness(async (req) => {
      if (req.batch) return { status: 400, detail: 'bad' };
      mostOpen = Math.max(mostOpen, ++open);
      await new Promise((r) => setTimeout(r, 2));
      open--;
      return req.body.includes('m2') ? { status: 400, detail: 'bad' } : ok;
    });
    [1, 2, 3].forEach((t) => h.worker.receive(delivery(t)));
    await h.worker.drain();
    expect(h.calls.filter((c) => !c.batch)).toHaveLength(3);
    // One by one, but within the worker's call slots (2 here), not one call per event at once.
    expect(mostOpen).toBe(2);
    expect(h.copies.map((c) => c.tag)).toEqual([2]);
    // Acks cover only a settled prefix, so an ack reaching tag 3 means all three were settled.
    expect(h.acks.at(-1)![0]).toBe(3);
    expect(h.nacks).toEqual([]);
  });

  it('never acks a delivery whose retry copy was not confirmed; it is handed back instead', async () => {
    const h = harness(() => ({ status: 500, detail: '' }), { failRepublish: true });
    [1, 2, 3].forEach((t) => h.worker.receive(delivery(t)));
    await h.worker.drain();
    expect(h.acks).toEqual([]);
    expect(h.nacks.sort()).toEqual([1, 2, 3]);
  });

  it('does not ack batch 2 before batch 1, even if batch 2 finishes first', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = harness(async (_req, n) => {
      if (n === 1) await gate;
      return ok;
    });
    [1, 2, 3, 4, 5, 6].forEach((t) => h.worker.receive(delivery(t)));
    await new Promise((r) => setTimeout(r, 10));
    expect(h.calls).toHaveLength(2);
    expect(h.acks).toEqual([]);
    release();
    await h.worker.drain();
    expect(h.acks).toEqual([[6, true]]);
  });

  it('grows waiting batches while every call slot is busy, instead of queueing many small calls', async () => {
    vi.useFakeTimers();
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const h = harness(async (_req, n) => {
        if (n <= 2) await gate;
        return ok;
      });
      [1, 2, 3, 4, 5, 6].forEach((t) => h.worker.receive(delivery(t)));
      expect(h.calls).toHaveLength(2);
      // Each lone delivery is cut by the batcher's 1 ms wait, one at a time, while both slots are busy.
      for (const t of [7, 8, 9, 10]) {
        h.worker.receive(delivery(t));
        vi.advanceTimersByTime(1);
      }
      release();
      await vi.runAllTimersAsync();
      await h.worker.drain();
      const ids = (c: InvokeRequest) => (c.batch ? (JSON.parse(c.body) as Array<{ event: { message: { id: string } } }>).map((e) => e.event.message.id) : [c.body]);
      expect(h.calls.slice(2).map(ids)).toEqual([['m7', 'm8', 'm9'], [JSON.stringify({ message: { id: 'm10' } })]]);
      expect(h.acks.at(-1)![0]).toBe(10);
    } finally {
      vi.useRealTimers();
    }
  });
});
