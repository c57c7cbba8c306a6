import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { AmqpManager, type ChannelHandle } from '@chat/shared/infra/amqp/manager';
import { DEAD_LETTER_QUEUE, EXCHANGE } from '@chat/shared/events/bus';
import type { Logger } from '@chat/shared/log';
import type { Invoke } from './invoker.ts';
import { functionQueue, HEADERS, type RetryPolicy } from './retry.ts';
import type { Subscription, SubscriptionSource } from './subscriptions.ts';
import { FunctionWorker, type Delivery } from './worker.ts';

export interface ConnectorOptions {
  amqpUrl: string;
  source: SubscriptionSource;
  invoke: Invoke;
  policy: RetryPolicy;
  prefetch: number;
  batch: { maxItems: number; maxBytes: number; maxWaitMs: number };
  maxInFlight: number;
  refreshIntervalMs: number;
  log: Logger;
}

/**
 * Deliveries per function since start: every one received, and those the broker had handed out
 * before (a consumer that died or closed with them unsettled). A connector that drains on
 * SIGTERM leaves its successor nothing to redeliver, so `redelivered` stays 0 across a rolling
 * restart; a kill shows up here.
 */
export type DeliveryStats = Record<string, { received: number; redelivered: number }>;

/** How the connector's connection is named in RabbitMQ's management tools. */
export const CONNECTION_NAME = 'chat-connector';

interface Binding {
  topics: Set<string>;
  handle: ChannelHandle<ConfirmChannel>;
  /** The worker and consumer of the channel's current incarnation (a new pair after each reopen). */
  worker: FunctionWorker | null;
  consumerTag: string;
}

/**
 * The RabbitMQ side: one durable queue per function bound to its routing keys, one confirm
 * channel per function (a failing function never stalls another), delay queues for retries and
 * the dead-letter queue. The connection is the shared AMQP manager's: it reconnects, re-declares
 * the exchange and the DLQ, and reopens every function's channel, whose setup re-subscribes it
 * with a fresh worker. stop() drains in-flight work before closing.
 */
export class Connector {
  private readonly amqp: AmqpManager;
  private readonly bindings = new Map<string, Binding>();
  private readonly counts: DeliveryStats = {};
  private stopping = false;
  private refreshTimer: NodeJS.Timeout | null = null;
  /** The subscriptions have been listed (and their channels registered) at least once. */
  private reconciled = false;

  constructor(private readonly o: ConnectorOptions) {
    this.amqp = new AmqpManager({
      url: o.amqpUrl,
      log: o.log,
      connectionName: CONNECTION_NAME,
      topology: async (ch) => {
        await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
        await ch.assertQueue(DEAD_LETTER_QUEUE, { durable: true });
      },
    });
  }

  get connected(): boolean {
    return this.amqp.connected();
  }

  stats(): DeliveryStats {
    return structuredClone(this.counts);
  }

  /** Throws (for /readyz) until every subscribed function has its consumer up. */
  ready(): void {
    this.amqp.ready();
    if (!this.reconciled) throw new Error('subscriptions not listed yet');
  }

  start(): void {
    this.amqp.onConnected(() => {
      this.reconcile()
        .then(() => {
          this.reconciled = true;
          this.o.log.info('connected', { source: this.o.source.name, functions: [...this.bindings.keys()] });
        })
        .catch((e) => this.o.log.warn('listing subscriptions failed', { err: e }))
        .finally(() => this.scheduleRefresh());
    });
    this.amqp.start();
  }

  private scheduleRefresh(): void {
    if (!this.o.refreshIntervalMs || this.stopping) return;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.reconcile()
        .then(() => (this.reconciled = true))
        .catch((e) => this.o.log.warn('refreshing subscriptions failed', { err: e }))
        .finally(() => this.scheduleRefresh());
    }, this.o.refreshIntervalMs);
    this.refreshTimer.unref();
  }

  private reconciling: Promise<void> = Promise.resolve();

  /** Brings queues, bindings and consumers in line with the source's subscriptions (one run at a time). */
  reconcile(): Promise<void> {
    const run = this.reconciling.then(() => this.reconcileNow());
    this.reconciling = run.catch(() => undefined);
    return run;
  }

  private async reconcileNow(): Promise<void> {
    if (!this.amqp.connected() || this.stopping) return;
    const subs = await this.o.source.list();
    const wanted = new Map(subs.map((s) => [s.fn, s]));
    for (const [fn, b] of this.bindings) {
      if (!wanted.has(fn)) {
        // The function is gone: stop consuming but keep its queue and bindings, so events keep
        // accumulating durably until it (or an operator) comes back for them.
        this.o.log.info('function no longer subscribed; pausing its queue', { fn });
        this.bindings.delete(fn);
        await this.cancel(b);
        await b.handle.close();
      }
    }
    for (const sub of subs) {
      const b = this.bindings.get(sub.fn);
      if (!b) this.subscribe(sub);
      else await this.rebind(b, sub);
    }
  }

  private async rebind(b: Binding, sub: Subscription): Promise<void> {
    const queue = functionQueue(sub.fn);
    const wanted = new Set(sub.topics);
    const ch = b.handle.channel;
    const before = b.topics;
    // The next (re)open binds exactly these; an open channel is brought in line now.
    b.topics = wanted;
    if (!ch) return;
    for (const t of wanted) if (!before.has(t)) await ch.bindQueue(queue, EXCHANGE, t);
    for (const t of before) if (!wanted.has(t)) await ch.unbindQueue(queue, EXCHANGE, t);
  }

  private subscribe(sub: Subscription): void {
    const { log } = this.o;
    const queue = functionQueue(sub.fn);
    const binding: Binding = { topics: new Set(sub.topics), handle: null!, worker: null, consumerTag: '' };
    binding.handle = this.amqp.open<ConfirmChannel>({
      name: `fn:${sub.fn}`,
      confirm: true,
      required: true,
      lost: () => {
        binding.worker?.abandon();
        binding.worker = null;
      },
      setup: async (channel) => {
        await channel.assertQueue(queue, { durable: true });
        for (const t of binding.topics) await channel.bindQueue(queue, EXCHANGE, t);
        await channel.prefetch(this.o.prefetch);
        const worker = this.worker(sub.fn, queue, channel);
        binding.worker = worker;
        const counts = (this.counts[sub.fn] ??= { received: 0, redelivered: 0 });
        const { consumerTag } = await channel.consume(queue, (msg) => {
          // null: the broker cancelled the consumer (queue deleted); the channel is reopened.
          if (!msg) return void channel.close().catch(() => undefined);
          counts.received++;
          if (msg.fields.redelivered) {
            counts.redelivered++;
            log.debug('redelivered', { fn: sub.fn, topic: msg.fields.routingKey, messageId: msg.properties.messageId as string | undefined, tag: msg.fields.deliveryTag });
          }
          worker.receive(toDelivery(msg));
        });
        binding.consumerTag = consumerTag;
        log.info('consuming', { fn: sub.fn, queue, topics: [...binding.topics] });
      },
    });
    this.bindings.set(sub.fn, binding);
  }

  private worker(fn: string, queue: string, channel: ConfirmChannel): FunctionWorker {
    const declared = new Set<string>();
    return new FunctionWorker({
      fn,
      invoke: this.o.invoke,
      policy: this.o.policy,
      batch: this.o.batch,
      maxInFlight: this.o.maxInFlight,
      log: this.o.log,
      port: {
        ack: (tag, multiple) => channel.ack({ fields: { deliveryTag: tag } } as ConsumeMessage, multiple),
        nack: (tag) => channel.nack({ fields: { deliveryTag: tag } } as ConsumeMessage, false, true),
        republish: async (target, d, headers) => {
          if (target !== queue && !declared.has(target)) {
            if (target.startsWith(`${queue}.retry.`)) {
              const ttl = Number(target.slice(`${queue}.retry.`.length));
              // Expired messages dead-letter through the default exchange straight back into the function's queue.
              await channel.assertQueue(target, {
                durable: true,
                arguments: { 'x-message-ttl': ttl, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue },
              });
            }
            declared.add(target);
          }
          await new Promise<void>((resolve, reject) => {
            channel.sendToQueue(
              target,
              d.body,
              { persistent: true, headers, contentType: d.properties.contentType ?? 'application/json', messageId: d.properties.messageId, timestamp: d.properties.timestamp },
              (err) => (err ? reject(err) : resolve()),
            );
          });
        },
      },
    });
  }

  /** Stops a function's consumer and lets its in-flight deliveries finish (acked or re-queued). */
  private async cancel(b: Binding): Promise<void> {
    const ch = b.handle.channel;
    if (ch && b.consumerTag) await ch.cancel(b.consumerTag).catch(() => undefined);
    await b.worker?.drain();
  }

  /** Stops consuming, lets in-flight deliveries finish (acked or re-queued), then closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const bindings = [...this.bindings.values()];
    await Promise.all(bindings.map((b) => this.cancel(b)));
    await this.amqp.close();
  }
}

function toDelivery(msg: ConsumeMessage): Delivery {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const topic = typeof headers[HEADERS.topic] === 'string' ? (headers[HEADERS.topic] as string) : msg.fields.routingKey;
  const attempts = Number(headers[HEADERS.attempts] ?? 0);
  return {
    tag: msg.fields.deliveryTag,
    topic,
    body: msg.content,
    attempts: Number.isFinite(attempts) && attempts >= 0 ? attempts : 0,
    headers,
    properties: { messageId: msg.properties.messageId as string | undefined, timestamp: msg.properties.timestamp as number | undefined, contentType: msg.properties.contentType as string | undefined },
  };
}
