import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { EXCHANGE, type BusEvents, type RoutingKey } from '../events/bus.ts';
import { errors } from '../errors.ts';
import type { Logger } from '../log.ts';

/**
 * Socket options for every AMQP connection: amqplib leaves Nagle's algorithm on by default, which
 * held small frames (a publish, its confirm) back by several milliseconds on every message.
 */
export const AMQP_SOCKET_OPTIONS = { noDelay: true } as const;

export interface Publisher {
  /** Resolves once RabbitMQ confirms the persistent message; rejects with `unavailable` otherwise. */
  publish<K extends RoutingKey>(key: K, event: BusEvents[K], opts?: { messageId?: string }): Promise<void>;
  connected(): boolean;
  close(): Promise<void>;
}

export interface PublisherOptions {
  url: string;
  log: Logger;
  confirmTimeoutMs?: number;
}

/**
 * A confirm-channel publisher that reconnects by itself. While RabbitMQ is away, publishes fail
 * fast with `unavailable` (never a false success); the next publish after it returns reconnects.
 */
export function createPublisher(opts: PublisherOptions): Publisher {
  const timeout = opts.confirmTimeoutMs ?? 5000;
  let conn: ChannelModel | null = null;
  let channel: ConfirmChannel | null = null;
  let connecting: Promise<ConfirmChannel> | null = null;
  let closed = false;
  let retryTimer: NodeJS.Timeout | null = null;
  const returned = new Set<string>();
  let seq = 0;

  const reset = () => {
    channel = null;
    conn = null;
  };

  const connect = (): Promise<ConfirmChannel> => {
    if (channel) return Promise.resolve(channel);
    connecting ??= (async () => {
      try {
        const c = await amqp.connect(opts.url, { ...AMQP_SOCKET_OPTIONS, timeout: 3000 });
        c.on('error', (e) => opts.log.warn('amqp connection error', { err: e }));
        c.on('close', () => {
          reset();
          if (!closed) scheduleReconnect();
        });
        const ch = await c.createConfirmChannel();
        ch.on('error', (e) => opts.log.warn('amqp channel error', { err: e }));
        ch.on('close', () => {
          channel = null;
        });
        // A mandatory publish that no queue takes comes back here before its confirm arrives.
        ch.on('return', (msg) => {
          const id = msg.properties.correlationId as string | undefined;
          if (id) returned.add(id);
        });
        await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
        conn = c;
        channel = ch;
        opts.log.info('amqp connected');
        return ch;
      } finally {
        connecting = null;
      }
    })();
    return connecting;
  };

  // Reconnect in the background too, so readiness recovers without waiting for traffic.
  const scheduleReconnect = () => {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect().catch(() => scheduleReconnect());
    }, 1000);
    retryTimer.unref();
  };

  connect().catch((e) => {
    opts.log.warn('amqp not reachable yet', { err: e });
    scheduleReconnect();
  });

  return {
    async publish(key, event, p = {}) {
      let ch: ConfirmChannel;
      try {
        ch = await connect();
      } catch (e) {
        scheduleReconnect();
        throw errors.unavailable('The message bus is unreachable; retry shortly.', e);
      }
      const body = Buffer.from(JSON.stringify(event));
      const correlationId = `${process.pid}-${++seq}`;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(errors.unavailable('The message bus did not confirm in time.')), timeout);
        try {
          // mandatory: an event no queue is bound for yet (a consumer that never ran) is an
          // error to report, not a silent drop.
          const props = { persistent: true, mandatory: true, contentType: 'application/json', messageId: p.messageId, correlationId, timestamp: Date.now() };
          ch.publish(EXCHANGE, key, body, props, (err) => {
            clearTimeout(timer);
            const unroutable = returned.delete(correlationId);
            if (err) reject(errors.unavailable('The message bus refused the event.', err));
            else if (unroutable) reject(errors.unavailable('No consumer is bound for this event yet; retry shortly.'));
            else resolve();
          });
        } catch (e) {
          clearTimeout(timer);
          reject(errors.unavailable('The message bus is unreachable; retry shortly.', e));
        }
      });
    },
    connected: () => channel !== null,
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await conn?.close().catch(() => undefined);
    },
  };
}
