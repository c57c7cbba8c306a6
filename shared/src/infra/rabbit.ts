import type { ConfirmChannel } from 'amqplib';
import { EXCHANGE, type BusEvents, type RoutingKey } from '../events/bus.ts';
import { errors } from '../errors.ts';
import type { Logger } from '../log.ts';
import { AmqpManager, type ChannelHandle } from './amqp/manager.ts';

export { AMQP_SOCKET_OPTIONS } from './amqp/manager.ts';

export interface Publisher {
  /** Resolves once RabbitMQ confirms the persistent message; rejects with `unavailable` otherwise. */
  publish<K extends RoutingKey>(key: K, event: BusEvents[K], opts?: { messageId?: string }): Promise<void>;
  connected(): boolean;
  close(): Promise<void>;
}

export interface PublisherOptions {
  log: Logger;
  confirmTimeoutMs?: number;
  /** The process's connection manager; without one the publisher opens (and closes) its own on `url`. */
  amqp?: AmqpManager;
  url?: string;
  /** Readiness waits for the publish channel (the gateway cannot accept a message without it). */
  required?: boolean;
  /**
   * While the broker is away, wait up to the confirm timeout for it to come back instead of
   * failing at once: for publishers with no caller to retry (the db function's membership events).
   */
  waitForBroker?: boolean;
}

/**
 * A confirm-channel publisher on the process's AMQP connection manager, which reopens the
 * channel (and so re-arms confirms) after every reconnect. While RabbitMQ is away, publishes
 * fail fast with `unavailable` (never a false success); the very first ones, while the first
 * connect is still under way, wait for it up to the confirm timeout.
 */
export function createPublisher(opts: PublisherOptions): Publisher {
  const timeout = opts.confirmTimeoutMs ?? 5000;
  const own = !opts.amqp;
  if (!opts.amqp && !opts.url) throw new Error('createPublisher needs a url or an AmqpManager');
  const manager = opts.amqp ?? new AmqpManager({ url: opts.url!, log: opts.log });
  const returned = new Set<string>();
  let seq = 0;
  let everUp = false;
  const handle: ChannelHandle<ConfirmChannel> = manager.open<ConfirmChannel>({
    name: 'publisher',
    confirm: true,
    required: opts.required ?? false,
    setup: async (ch) => {
      // A mandatory publish that no queue takes comes back here before its confirm arrives.
      ch.on('return', (msg) => {
        const id = msg.properties.correlationId as string | undefined;
        if (id) returned.add(id);
      });
      await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
      everUp = true;
    },
  });

  const channel = async (): Promise<ConfirmChannel> => {
    if (!handle.channel && (!everUp || opts.waitForBroker)) await manager.whenConnected(timeout);
    if (!handle.channel) throw errors.unavailable('The message bus is unreachable; retry shortly.');
    return handle.channel;
  };

  return {
    async publish(key, event, p = {}) {
      const ch = await channel();
      const body = Buffer.from(JSON.stringify(event));
      const correlationId = `${process.pid}-${++seq}`;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          returned.delete(correlationId);
          reject(errors.unavailable('The message bus did not confirm in time.'));
        }, timeout);
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
    connected: () => handle.up,
    async close() {
      await handle.close();
      if (own) await manager.close();
    },
  };
}

/**
 * Publishing for writers whose store write is the source of truth and whose event only makes a
 * live update (a renamed user, say): the publish is not awaited, and a failure is logged, never
 * surfaced to the request that made the change.
 */
export const fireAndForget =
  (publisher: Publisher, log: Logger) =>
  <K extends RoutingKey>(key: K, event: BusEvents[K]): void =>
    void publisher.publish(key, event).catch((e) => log.error('event publish failed', { key, err: e }));
