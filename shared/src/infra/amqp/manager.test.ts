import { EventEmitter } from 'node:events';
import type { ChannelModel } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../log.ts';
import { AmqpManager, backoffDelay, type Connect } from './manager.ts';

/** A stand-in for amqplib's connection and channels: the boundary the manager talks to. */
class FakeChannel extends EventEmitter {
  closed = false;
  constructor(readonly confirm: boolean) {
    super();
  }
  async close() {
    this.brokerClose();
  }
  /** The broker closes the channel (a PRECONDITION_FAILED, a deleted queue). */
  brokerClose() {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

class FakeConnection extends EventEmitter {
  channels: FakeChannel[] = [];
  async createChannel() {
    return this.add(false);
  }
  async createConfirmChannel() {
    return this.add(true);
  }
  private add(confirm: boolean) {
    const ch = new FakeChannel(confirm);
    this.channels.push(ch);
    return ch;
  }
  async close() {
    this.drop();
  }
  /** The broker goes away: every channel closes, then the connection. */
  drop() {
    for (const ch of this.channels) ch.brokerClose();
    this.emit('close');
  }
}

function fakeBroker() {
  const b = {
    up: true,
    attempts: 0,
    connections: [] as FakeConnection[],
    connect: (async () => {
      b.attempts++;
      if (!b.up) throw new Error('ECONNREFUSED');
      const c = new FakeConnection();
      b.connections.push(c);
      return c as unknown as ChannelModel;
    }) as Connect,
    get last() {
      return b.connections.at(-1)!;
    },
  };
  return b;
}

const log = createLogger('test', 'error');
let manager: AmqpManager | undefined;

beforeEach(() => vi.useFakeTimers());
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  vi.useRealTimers();
});

describe('backoffDelay', () => {
  it('doubles from the base, never exceeds the cap, and is jittered between half and all of it', () => {
    const b = { baseMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 10, 60].map((n) => backoffDelay(n, b, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, b, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(8, b)));
    expect(spread.size).toBeGreaterThan(10);
    for (const d of spread) {
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });
});

describe('AmqpManager', () => {
  it('keeps retrying while the broker is away, with capped waits, and reports its state', async () => {
    const broker = fakeBroker();
    broker.up = false;
    manager = new AmqpManager({ url: 'amqp://x', log, connect: broker.connect, backoff: { baseMs: 100, maxMs: 800 }, random: () => 1 }).start();
    await vi.advanceTimersByTimeAsync(0);
    expect(manager.state()).toMatchObject({ status: 'waiting', failures: 1, lastError: 'ECONNREFUSED' });
    expect(() => manager!.ready()).toThrow(/amqp waiting: ECONNREFUSED/);

    // Waits of 100, 200, 400, then 800 each: the 21st attempt comes 100+200+400+800*17 ms in.
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 800 * 17 - 1);
    expect(broker.attempts).toBe(20);
    await vi.advanceTimersByTimeAsync(1);
    expect(broker.attempts).toBe(21);

    broker.up = true;
    await vi.advanceTimersByTimeAsync(800);
    expect(manager.state()).toMatchObject({ status: 'connected', failures: 0, lastError: null });
    expect(() => manager!.ready()).not.toThrow();
  });

  it('after a lost connection re-declares the topology, reopens every channel (re-running its setup) and reports each one', async () => {
    const broker = fakeBroker();
    const topology = vi.fn(async () => undefined);
    manager = new AmqpManager({ url: 'amqp://x', log, connect: broker.connect, topology, backoff: { baseMs: 100, maxMs: 100 }, random: () => 1 });
    const consumerSetups: FakeChannel[] = [];
    const lost = vi.fn();
    const consumer = manager.open({ name: 'membership', required: true, setup: async (ch) => void consumerSetups.push(ch as unknown as FakeChannel), lost });
    const publisher = manager.open({ name: 'publisher', confirm: true, setup: async () => undefined });
    await vi.advanceTimersByTimeAsync(0);
    expect(topology).toHaveBeenCalledTimes(1);
    expect(consumer.up && publisher.up).toBe(true);
    expect((publisher.channel as unknown as FakeChannel).confirm).toBe(true);
    expect(manager.state().channels).toEqual({ membership: { up: true, required: true }, publisher: { up: true, required: false } });

    broker.up = false;
    broker.last.drop();
    expect(lost).toHaveBeenCalledTimes(1);
    expect(consumer.channel).toBeNull();
    expect(manager.state()).toMatchObject({ status: 'waiting', channels: { membership: { up: false }, publisher: { up: false } } });
    expect(() => manager!.ready()).toThrow();

    await vi.advanceTimersByTimeAsync(1000); // still away: ten more attempts
    broker.up = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(topology).toHaveBeenCalledTimes(2);
    expect(consumerSetups).toHaveLength(2);
    expect(consumerSetups[1]).not.toBe(consumerSetups[0]);
    expect(consumer.channel).toBe(consumerSetups[1]);
    // A fresh confirm channel: confirms are armed again.
    expect((publisher.channel as unknown as FakeChannel).confirm).toBe(true);
    expect(() => manager!.ready()).not.toThrow();
  });

  it('is not ready while a required channel is down, and reopens a channel the broker closed under a live connection', async () => {
    const broker = fakeBroker();
    manager = new AmqpManager({ url: 'amqp://x', log, connect: broker.connect, backoff: { baseMs: 100, maxMs: 400 }, random: () => 1 });
    let failSetup = 0;
    const lost = vi.fn();
    const consumer = manager.open({
      name: 'fn:db',
      required: true,
      lost,
      setup: async () => {
        if (failSetup-- > 0) throw new Error('PRECONDITION_FAILED');
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(consumer.up).toBe(true);

    failSetup = 2;
    (consumer.channel as unknown as FakeChannel).brokerClose();
    expect(lost).toHaveBeenCalledTimes(1);
    expect(() => manager!.ready()).toThrow('amqp channels down: fn:db');
    await vi.advanceTimersByTimeAsync(100); // first reopen fails
    await vi.advanceTimersByTimeAsync(200); // second fails
    expect(consumer.up).toBe(false);
    await vi.advanceTimersByTimeAsync(400);
    expect(consumer.up).toBe(true);
    expect(broker.connections).toHaveLength(1); // the connection itself was never dropped
    expect(() => manager!.ready()).not.toThrow();
  });

  it('tells listeners after each connect, and stops for good once closed', async () => {
    const broker = fakeBroker();
    manager = new AmqpManager({ url: 'amqp://x', log, connect: broker.connect, backoff: { baseMs: 100, maxMs: 100 }, random: () => 1 });
    const up = vi.fn();
    manager.onConnected(up);
    const ch = manager.open({ name: 'c', setup: async () => undefined });
    await vi.advanceTimersByTimeAsync(0);
    broker.last.drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(up).toHaveBeenCalledTimes(2);

    await ch.close();
    expect(manager.state().channels).toEqual({});
    await manager.close();
    const attempts = broker.attempts;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(broker.attempts).toBe(attempts);
    expect(manager.state().status).toBe('closed');
  });

  it('closes every channel (awaiting each close-ok) before the connection, so acks sent just before reach the broker first', async () => {
    const broker = fakeBroker();
    manager = new AmqpManager({ url: 'amqp://x', log, connect: broker.connect });
    manager.open({ name: 'a', setup: async () => undefined });
    manager.open({ name: 'b', confirm: true, setup: async () => undefined });
    await vi.advanceTimersByTimeAsync(0);
    const conn = broker.last;
    const order: string[] = [];
    for (const [i, ch] of conn.channels.entries()) {
      const close = ch.close.bind(ch);
      ch.close = async () => {
        order.push(`channel ${i} closing`);
        await Promise.resolve(); // the close-ok arrives later
        await close();
        order.push(`channel ${i} closed`);
      };
    }
    const closeConn = conn.close.bind(conn);
    conn.close = async () => {
      order.push('connection closing');
      await closeConn();
    };
    await manager.close();
    // The topology channel was closed at connect; the two registered ones close now, then the connection.
    expect(order.at(-1)).toBe('connection closing');
    expect(order.filter((o) => o.endsWith('closed'))).toHaveLength(2);
    expect(order.indexOf('connection closing')).toBeGreaterThan(Math.max(...order.flatMap((o, i) => (o.endsWith('closed') ? [i] : []))));
    // Nothing reopens: the channels' close events come from an intended close.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(broker.connections).toHaveLength(1);
  });
});
