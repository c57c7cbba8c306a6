import { EventEmitter } from 'node:events';
import type { ChannelModel } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { AmqpManager, type Connect } from './amqp/manager.ts';
import { createPublisher, type Publisher } from './rabbit.ts';

/** A confirm channel that answers each publish as told: confirm, return (unroutable), or never. */
class FakeConfirmChannel extends EventEmitter {
  published: Array<{ key: string; props: Record<string, unknown> }> = [];
  answer: 'confirm' | 'return' | 'silence' = 'confirm';
  async assertExchange() {}
  async close() {
    this.emit('close');
  }
  publish(_ex: string, key: string, _body: Buffer, props: Record<string, unknown>, cb: (err: unknown) => void) {
    this.published.push({ key, props });
    if (this.answer === 'silence') return true;
    setImmediate(() => {
      if (this.answer === 'return') this.emit('return', { properties: { correlationId: props.correlationId } });
      cb(null);
    });
    return true;
  }
}

function broker() {
  const b = { up: true, channels: [] as FakeConfirmChannel[], conns: [] as EventEmitter[] };
  const connect: Connect = async () => {
    if (!b.up) throw new Error('ECONNREFUSED');
    const conn = Object.assign(new EventEmitter(), {
      createConfirmChannel: async () => {
        const ch = new FakeConfirmChannel();
        b.channels.push(ch);
        return ch;
      },
      close: async () => conn.emit('close'),
    });
    b.conns.push(conn);
    return conn as unknown as ChannelModel;
  };
  return { b, connect };
}

/** A manager and publisher on a fake broker, after one confirmed publish; then the broker goes away. */
async function publishedThenLost(opts: { confirmTimeoutMs: number; backoffMs: number; required?: boolean; waitForBroker?: boolean }) {
  const { b, connect } = broker();
  manager = new AmqpManager({ url: 'amqp://x', log, connect, backoff: { baseMs: opts.backoffMs, maxMs: opts.backoffMs * 2 } });
  publisher = createPublisher({ amqp: manager, log, confirmTimeoutMs: opts.confirmTimeoutMs, required: opts.required, waitForBroker: opts.waitForBroker });
  await publisher.publish('conversation.created', event);
  b.up = false;
  b.conns[0]!.emit('close');
  return { b, manager, publisher };
}

const log = createLogger('test', 'error');
let publisher: Publisher | undefined;
let manager: AmqpManager | undefined;
afterEach(async () => {
  await publisher?.close();
  await manager?.close();
});

const event = { conversationId: 'c1', memberIds: ['u1'] };

describe('createPublisher', () => {
  it('resolves on the confirm of a persistent, mandatory publish; unroutable or unconfirmed is `unavailable`', async () => {
    const { b, connect } = broker();
    manager = new AmqpManager({ url: 'amqp://x', log, connect });
    publisher = createPublisher({ amqp: manager, log, confirmTimeoutMs: 50 });
    await publisher.publish('conversation.created', event, { messageId: 'm1' });
    expect(b.channels[0]!.published[0]).toMatchObject({ key: 'conversation.created', props: { persistent: true, mandatory: true, messageId: 'm1' } });

    b.channels[0]!.answer = 'return';
    await expect(publisher.publish('conversation.created', event)).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/No consumer/) });
    b.channels[0]!.answer = 'silence';
    await expect(publisher.publish('conversation.created', event)).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/did not confirm/) });
  });

  it('fails fast while the broker is away, and publishes on a fresh confirm channel once the manager reconnects', async () => {
    const { b, manager, publisher } = await publishedThenLost({ confirmTimeoutMs: 1000, backoffMs: 10, required: true });
    expect(publisher.connected()).toBe(false);
    expect(() => manager.ready()).toThrow();
    const started = Date.now();
    await expect(publisher.publish('conversation.created', event)).rejects.toMatchObject({ code: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(100);

    b.up = true;
    await manager.whenConnected(1000);
    expect(publisher.connected()).toBe(true);
    await publisher.publish('conversation.created', event);
    expect(b.channels).toHaveLength(2);
    expect(b.channels[1]!.published).toHaveLength(1);
  });

  it('with waitForBroker, waits for a reconnecting broker instead of failing at once', async () => {
    const { b, publisher } = await publishedThenLost({ confirmTimeoutMs: 2000, backoffMs: 30, waitForBroker: true });
    const pending = publisher.publish('conversation.created', event);
    setTimeout(() => (b.up = true), 50);
    await pending;
    expect(b.channels[1]!.published).toHaveLength(1);
  });
});
