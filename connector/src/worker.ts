import { eachLimit } from '@chat/shared/concurrency';
import type { Logger } from '@chat/shared/log';
import { ContiguousAcker } from './acker.ts';
import { Batcher } from './batcher.ts';
import type { Invoke, InvokeResult } from './invoker.ts';
import { DEAD_LETTER_QUEUE } from '@chat/shared/events/bus';
import { HEADERS, isPermanent, isSuccess, nextStep, retryQueue, type RetryPolicy } from './retry.ts';

export interface Delivery {
  tag: number;
  topic: string;
  body: Buffer;
  /** Failed tries so far (from the x-chat-attempts header). */
  attempts: number;
  headers: Record<string, unknown>;
  properties: { messageId?: string | undefined; timestamp?: number | undefined; contentType?: string | undefined };
}

/** The broker side of a worker: acks and confirmed republishes on its channel. */
export interface WorkerPort {
  ack(tag: number, multiple: boolean): void;
  /** Hands a delivery back to the queue (used when its retry copy could not be stored). */
  nack(tag: number): void;
  /** Resolves once the broker confirms the persistent copy; rejects if the channel is gone. */
  republish(queue: string, d: Delivery, headers: Record<string, unknown>): Promise<void>;
}

export interface WorkerOptions {
  fn: string;
  invoke: Invoke;
  port: WorkerPort;
  policy: RetryPolicy;
  batch: { maxItems: number; maxBytes: number; maxWaitMs: number };
  maxInFlight: number;
  log: Logger;
}

/**
 * Delivers one function's queue to the function: collects deliveries into batches, invokes, and
 * settles every delivery exactly one way — ack after a 2xx, or ack after its retry/dead-letter
 * copy is confirmed. Nothing is acked before it is either applied or safely re-queued.
 */
export class FunctionWorker {
  private readonly acker: ContiguousAcker;
  private readonly batcher: Batcher<Delivery>;
  /** Batches waiting for a free call slot; they keep growing while every slot is busy. */
  private readonly waiting: Array<{ items: Delivery[]; bytes: number }> = [];
  private readonly running = new Set<Promise<void>>();
  private dead = false;

  constructor(private readonly o: WorkerOptions) {
    this.acker = new ContiguousAcker((tag, multiple) => {
      if (!this.dead) o.port.ack(tag, multiple);
    });
    this.batcher = new Batcher<Delivery>({ ...o.batch, size: deliverySize, flush: (b, bytes) => this.enqueue(b, bytes) });
  }

  receive(d: Delivery): void {
    if (this.dead) return;
    this.acker.track(d.tag);
    this.batcher.add(d);
  }

  /** Sends what is collected and waits until every in-flight delivery is settled. */
  async drain(): Promise<void> {
    this.batcher.flush();
    this.pump();
    while (this.running.size > 0) await Promise.race(this.running);
  }

  /** The channel is gone: its unacked deliveries come back from the broker, so forget them. */
  abandon(): void {
    this.dead = true;
    this.batcher.discard();
    this.waiting.length = 0;
  }

  get inFlight(): number {
    return this.acker.pending;
  }

  /**
   * Under load the batcher's short wait cuts small batches faster than the function answers them.
   * Rather than queueing many small calls, a batch that has to wait joins the one waiting before
   * it (up to the batch limits), so calls grow toward full batches exactly when the function is
   * the bottleneck, and a quiet queue still waits no longer than the batcher. Order is kept: it
   * only appends.
   */
  private enqueue(batch: Delivery[], bytes: number): void {
    const last = this.waiting.at(-1);
    const { maxItems, maxBytes } = this.o.batch;
    if (last && last.items.length + batch.length <= maxItems && last.bytes + bytes <= maxBytes) {
      last.items.push(...batch);
      last.bytes += bytes;
    } else this.waiting.push({ items: batch, bytes });
    this.pump();
  }

  private pump(): void {
    while (!this.dead && this.running.size < this.o.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.shift()!.items;
      const p: Promise<void> = this.deliver(batch)
        .catch((e) => this.o.log.error('delivery failed; the broker will redeliver', { fn: this.o.fn, err: e }))
        .finally(() => {
          this.running.delete(p);
          this.pump();
        });
      this.running.add(p);
    }
  }

  private async deliver(batch: Delivery[]): Promise<void> {
    if (batch.length === 1) return this.deliverOne(batch[0]!);
    const body = `[${batch.map((d) => `{"topic":${JSON.stringify(d.topic)},"event":${d.body.toString('utf8')}}`).join(',')}]`;
    const res = await this.o.invoke(this.o.fn, { body, batch: true });
    if (isSuccess(res.status)) return this.settle(batch);
    if (isPermanent(res.status)) {
      // Some event in the batch is refused: deliver one by one, so only that one is retried.
      this.o.log.warn('batch refused; delivering one by one', { fn: this.o.fn, size: batch.length, status: res.status, detail: res.detail });
      // No more calls at once than the worker's own slots: a refused batch of 1,000 would
      // otherwise open 1,000 requests to a function that is already refusing something.
      await eachLimit(batch, this.o.maxInFlight, (d) => this.deliverOne(d));
      return;
    }
    this.o.log.warn('batch failed; scheduling retries', { fn: this.o.fn, size: batch.length, status: res.status, detail: res.detail });
    await Promise.all(batch.map((d) => this.failed(d, res)));
  }

  private async deliverOne(d: Delivery): Promise<void> {
    const res = await this.o.invoke(this.o.fn, { body: d.body.toString('utf8'), topic: d.topic, batch: false });
    if (isSuccess(res.status)) return this.settle([d]);
    return this.failed(d, res);
  }

  private async failed(d: Delivery, res: InvokeResult): Promise<void> {
    const step = nextStep(res.status, d.attempts, this.o.policy);
    const headers: Record<string, unknown> = {
      ...d.headers,
      [HEADERS.topic]: d.topic,
      [HEADERS.attempts]: step.attempts,
      [HEADERS.lastStatus]: res.status,
      [HEADERS.lastError]: res.detail.slice(0, 200),
    };
    try {
      if (step.kind === 'retry') {
        await this.o.port.republish(retryQueue(this.o.fn, step.delayMs), d, headers);
      } else {
        this.o.log.error('dead-lettering event', { fn: this.o.fn, topic: d.topic, attempts: step.attempts, status: res.status, messageId: d.properties.messageId });
        await this.o.port.republish(DEAD_LETTER_QUEUE, d, { ...headers, [HEADERS.fn]: this.o.fn, [HEADERS.failedAt]: new Date().toISOString() });
      }
    } catch (e) {
      // The copy is not safely stored, so the original must not be acked: hand it back instead
      // (if the channel is gone, the broker requeues it by itself).
      this.o.log.warn('could not store the retry copy; requeueing', { fn: this.o.fn, err: e });
      if (!this.dead) {
        this.o.port.nack(d.tag);
        this.acker.settle([d.tag], false);
      }
      return;
    }
    this.settle([d]);
  }

  private settle(ds: Delivery[]): void {
    this.acker.settle(ds.map((d) => d.tag));
  }
}

/** Bytes a delivery adds to a batch body (its event, topic and the JSON around them). */
const deliverySize = (d: Delivery) => d.body.length + d.topic.length + 32;
