import type { Channel, ConsumeMessage } from 'amqplib';
import type { z } from 'zod';
import { KeyedQueue } from '../../concurrency.ts';
import type { Logger } from '../../log.ts';
import { backoffDelay, type Backoff } from './manager.ts';

/** What a consumer does with one routing key: the event's schema, and how to apply it. */
export interface EventHandler<T = any> {
  schema: z.ZodType<T, any>;
  apply(event: T): Promise<void>;
}

export interface DispatchOptions {
  handlers: Record<string, EventHandler>;
  log: Logger;
  /** Tries per event before it is dead-lettered (nack without requeue). */
  maxAttempts: number;
  backoff: Backoff;
  /** Events with the same key are applied one after another, in arrival order. */
  orderKey?: (event: unknown) => string | undefined;
  random?: () => number;
}

/**
 * Settles every delivery one way: acked once applied; dead-lettered (nack, no requeue: the queue's
 * dead-letter arguments move it to the DLQ) when it is malformed or still fails after
 * `maxAttempts` tries with backoff; never acked and forgotten. A routing key with no handler is
 * acked: the binding is wider than what this consumer knows (a newer producer's event).
 */
export function eventDispatcher(o: DispatchOptions) {
  const ordered = new KeyedQueue();
  const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

  const run = async (ch: Channel, msg: ConsumeMessage, handler: EventHandler, event: unknown, key: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await handler.apply(event);
        return settle(ch, msg, 'ack');
      } catch (e) {
        if (attempt >= o.maxAttempts) {
          o.log.error('event failed; dead-lettering it', { routingKey: key, attempts: attempt, err: e });
          return settle(ch, msg, 'dead-letter');
        }
        o.log.warn('event failed; retrying', { routingKey: key, attempt, err: e });
        await pause(backoffDelay(attempt - 1, o.backoff, o.random));
      }
    }
  };

  return (ch: Channel, msg: ConsumeMessage): Promise<void> => {
    const key = msg.fields.routingKey;
    const handler = o.handlers[key];
    if (!handler) {
      o.log.debug('event without a handler; acked', { routingKey: key });
      return Promise.resolve(settle(ch, msg, 'ack'));
    }
    let parsed: z.ZodSafeParseResult<unknown>;
    try {
      parsed = handler.schema.safeParse(JSON.parse(msg.content.toString('utf8')));
    } catch (e) {
      o.log.warn('event is not JSON; dead-lettering it', { routingKey: key, err: e });
      return Promise.resolve(settle(ch, msg, 'dead-letter'));
    }
    if (!parsed.success) {
      o.log.warn('event does not match its schema; dead-lettering it', { routingKey: key, issues: parsed.error.issues.slice(0, 3) });
      return Promise.resolve(settle(ch, msg, 'dead-letter'));
    }
    const event = parsed.data;
    const chainKey = o.orderKey?.(event);
    if (chainKey === undefined) return run(ch, msg, handler, event, key);
    return ordered.run(chainKey, () => run(ch, msg, handler, event, key));
  };
}

/** A delivery on a channel that has since closed is redelivered by the broker; nothing to settle. */
function settle(ch: Channel, msg: ConsumeMessage, how: 'ack' | 'dead-letter'): void {
  try {
    if (how === 'ack') ch.ack(msg);
    else ch.nack(msg, false, false);
  } catch {
    /* channel closed: the broker requeues the delivery */
  }
}
