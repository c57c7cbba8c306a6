import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { EXCHANGE, type BusEvents, type RoutingKey } from '@chat/shared/events/bus';
import { stack } from './stack.ts';

/**
 * Test access to the stack's RabbitMQ vhost: publish events the way the gateway does (persistent,
 * confirmed), so tests can drive the connector and the functions without a socket client.
 */
let conn: ChannelModel | null = null;
let channel: ConfirmChannel | null = null;

export async function busChannel(): Promise<ConfirmChannel> {
  if (channel) return channel;
  conn = await amqp.connect(stack().env.AMQP_URL!);
  channel = await conn.createConfirmChannel();
  channel.on('close', () => {
    channel = null;
  });
  await channel.assertExchange(EXCHANGE, 'topic', { durable: true });
  return channel;
}

export async function closeBus(): Promise<void> {
  await conn?.close().catch(() => undefined);
  conn = null;
  channel = null;
}

/** Publishes raw bodies (any bytes, for malformed-event tests) and waits for the confirms. */
export async function publishRaw(key: string, bodies: Array<string | Buffer>): Promise<void> {
  const ch = await busChannel();
  for (const b of bodies) ch.publish(EXCHANGE, key, Buffer.isBuffer(b) ? b : Buffer.from(b), { persistent: true, contentType: 'application/json' });
  await ch.waitForConfirms();
}

export async function publishEvents<K extends RoutingKey>(key: K, events: BusEvents[K][]): Promise<void> {
  await publishRaw(key, events.map((e) => JSON.stringify(e)));
}

/**
 * Collects every event published under `key` from now on (a queue of the test's own), for the
 * tests that check what went onto the bus. stop() deletes the queue.
 */
export async function recordBus<K extends RoutingKey>(key: K): Promise<{ events: BusEvents[K][]; stop(): Promise<void> }> {
  const ch = await busChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, EXCHANGE, key);
  const events: BusEvents[K][] = [];
  await ch.consume(queue, (d) => d && events.push(JSON.parse(d.content.toString()) as BusEvents[K]), { noAck: true });
  return { events, stop: async () => void (await ch.deleteQueue(queue)) };
}

export { makeMessage, messageId } from './fixtures.ts';

/** Polls until check() returns a non-undefined value, or fails after the deadline. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
