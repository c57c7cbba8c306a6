import type { ChannelModel, ConsumeMessage } from 'amqplib';

export interface DrainedQueues {
  /** Resolves once this many deliveries (over both queues) have arrived. */
  received(count: number): Promise<void>;
  /** Deletes the queues and the exchange. */
  remove(): Promise<void>;
}

/**
 * The broker's side of the pipeline without the pipeline: a durable topic exchange bound to two
 * durable queues, as the db and notification functions have, drained by a consumer that only acks
 * (a batch at a time with one multiple ack, as the connector does; a timer acks a partial batch).
 * Both queues share one channel, so a multiple ack covers every earlier delivery of either queue.
 */
export async function drainedQueues(conn: ChannelModel, exchange: string, opts: { prefetch: number; ackEvery: number }): Promise<DrainedQueues> {
  const setup = await conn.createChannel();
  await setup.assertExchange(exchange, 'topic', { durable: true });
  const queues = [`${exchange}.db`, `${exchange}.notification`];
  const drain = await conn.createChannel();
  await drain.prefetch(opts.prefetch);
  let latest: ConsumeMessage | null = null;
  let n = 0;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const ackLatest = () => {
    if (latest) drain.ack(latest, true);
    latest = null;
  };
  for (const q of queues) {
    await setup.assertQueue(q, { durable: true });
    await setup.bindQueue(q, exchange, '#');
    await drain.consume(q, (m) => {
      if (!m) return;
      latest = m;
      if (++n % opts.ackEvery === 0) ackLatest();
      for (const w of waiters.filter((x) => n >= x.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  }
  const timer = setInterval(ackLatest, 50);
  timer.unref();
  return {
    received: (count) => (n >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    remove: async () => {
      clearInterval(timer);
      ackLatest();
      await drain.close();
      for (const q of queues) await setup.deleteQueue(q);
      await setup.deleteExchange(exchange);
      await setup.close();
    },
  };
}
