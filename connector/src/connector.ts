import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { AMQP_SOCKET_OPTIONS } from '@chat/shared/infra/rabbit';
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

/** How the connector's connection is named in RabbitMQ's management tools. */
export const CONNECTION_NAME = 'chat-connector';

interface Binding {
  topics: Set<string>;
  channel: ConfirmChannel;
  worker: FunctionWorker;
  consumerTag: string;
}

/**
 * The RabbitMQ side: one durable queue per function bound to its routing keys, one confirm
 * channel per function (a failing function never stalls another), delay queues for retries and
 * the dead-letter queue. Reconnects by itself; stop() drains in-flight work before closing.
 */
export class Connector {
  private conn: ChannelModel | null = null;
  private readonly bindings = new Map<string, Binding>();
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private reconnectDelay = 500;

  constructor(private readonly o: ConnectorOptions) {}

  get connected(): boolean {
    return this.conn !== null;
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    const { log } = this.o;
    let conn: ChannelModel | null = null;
    try {
      conn = await amqp.connect(this.o.amqpUrl, { ...AMQP_SOCKET_OPTIONS, timeout: 5000, clientProperties: { connection_name: CONNECTION_NAME } });
      conn.on('error', (e) => log.warn('amqp connection error', { err: e }));
      conn.on('close', () => this.onConnectionLost(conn!));
      const setup = await conn.createChannel();
      await setup.assertExchange(EXCHANGE, 'topic', { durable: true });
      await setup.assertQueue(DEAD_LETTER_QUEUE, { durable: true });
      await setup.close();
      this.conn = conn;
      this.reconnectDelay = 500;
      await this.reconcile();
      log.info('connected', { source: this.o.source.name, functions: [...this.bindings.keys()] });
      this.scheduleRefresh();
    } catch (e) {
      log.warn('amqp connect failed; retrying', { err: e, inMs: this.reconnectDelay });
      if (conn) await conn.close().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  private onConnectionLost(conn: ChannelModel): void {
    if (this.conn !== conn && this.conn !== null) return;
    this.conn = null;
    for (const b of this.bindings.values()) b.worker.abandon();
    this.bindings.clear();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (!this.stopping) {
      this.o.log.warn('amqp connection lost; reconnecting');
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, this.reconnectDelay);
    this.reconnectDelay = Math.min(10_000, this.reconnectDelay * 2);
  }

  private scheduleRefresh(): void {
    if (!this.o.refreshIntervalMs || this.stopping) return;
    this.refreshTimer = setTimeout(() => {
      this.reconcile()
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
    if (!this.conn) return;
    const subs = await this.o.source.list();
    const wanted = new Map(subs.map((s) => [s.fn, s]));
    for (const [fn, b] of this.bindings) {
      if (!wanted.has(fn)) {
        // The function is gone: stop consuming but keep its queue and bindings, so events keep
        // accumulating durably until it (or an operator) comes back for them.
        this.o.log.info('function no longer subscribed; pausing its queue', { fn });
        await b.channel.cancel(b.consumerTag).catch(() => undefined);
        await b.worker.drain();
        await b.channel.close().catch(() => undefined);
        this.bindings.delete(fn);
      }
    }
    for (const sub of subs) {
      const b = this.bindings.get(sub.fn);
      if (!b) await this.subscribe(sub);
      else await this.rebind(b, sub);
    }
  }

  private async rebind(b: Binding, sub: Subscription): Promise<void> {
    const queue = functionQueue(sub.fn);
    for (const t of sub.topics) if (!b.topics.has(t)) await b.channel.bindQueue(queue, EXCHANGE, t);
    for (const t of b.topics) if (!sub.topics.includes(t)) await b.channel.unbindQueue(queue, EXCHANGE, t);
    b.topics = new Set(sub.topics);
  }

  private async subscribe(sub: Subscription): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    const { log } = this.o;
    const queue = functionQueue(sub.fn);
    const channel = await conn.createConfirmChannel();
    channel.on('error', (e) => log.warn('amqp channel error', { fn: sub.fn, err: e }));
    await channel.assertQueue(queue, { durable: true });
    for (const t of sub.topics) await channel.bindQueue(queue, EXCHANGE, t);
    await channel.prefetch(this.o.prefetch);

    const declared = new Set<string>();
    const worker = new FunctionWorker({
      fn: sub.fn,
      invoke: this.o.invoke,
      policy: this.o.policy,
      batch: this.o.batch,
      maxInFlight: this.o.maxInFlight,
      log,
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
    const binding: Binding = { topics: new Set(sub.topics), channel, worker, consumerTag: '' };
    channel.on('close', () => {
      worker.abandon();
      if (this.bindings.get(sub.fn) === binding) this.bindings.delete(sub.fn);
      // A channel closed by a broker error (not by us or a lost connection) is reopened.
      if (!this.stopping && this.conn === conn) setTimeout(() => void this.reconcile().catch(() => undefined), 1000).unref();
    });
    const { consumerTag } = await channel.consume(queue, (msg) => {
      if (!msg) return; // consumer cancelled by the broker (queue deleted); reconcile recreates it
      worker.receive(toDelivery(msg));
    });
    binding.consumerTag = consumerTag;
    this.bindings.set(sub.fn, binding);
    log.info('consuming', { fn: sub.fn, queue, topics: sub.topics });
  }

  /** Stops consuming, lets in-flight deliveries finish (acked or re-queued), then closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const bindings = [...this.bindings.values()];
    await Promise.all(bindings.map((b) => b.channel.cancel(b.consumerTag).catch(() => undefined)));
    await Promise.all(bindings.map((b) => b.worker.drain()));
    await this.conn?.close().catch(() => undefined);
    this.conn = null;
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
